"""Oracle Fusion REST client: authenticated, retried, keyset-paged extraction of changed customers."""

import logging
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import orjson
import requests
from pydantic import SecretStr, ValidationError
from requests.auth import HTTPBasicAuth

from oracle_mailchimp_dagster.fusion.errors import (
    FusionAuthError,
    FusionRequestError,
    FusionResponseError,
    FusionUnavailableError,
    hint_for,
    parse_error_details,
)
from oracle_mailchimp_dagster.fusion.keyset import KeysetPager, NoProgressError
from oracle_mailchimp_dagster.fusion.query import (
    ORDER_BY,
    CustomerCursor,
    changed_after_q,
    party_ids_q,
    party_numbers_q,
)
from oracle_mailchimp_dagster.fusion.records import CUSTOMER_FIELDS, CustomerPage, FusionCustomer
from oracle_mailchimp_dagster.fusion.settings import (
    FusionBasicAuth,
    FusionClientOptions,
    FusionConnection,
    FusionOAuth,
)
from oracle_mailchimp_dagster.fusion.tokens import PROCESS_TOKEN_CACHE, IssuedToken, TokenCache, TokenKey
from oracle_mailchimp_dagster.http import CallCounters, HttpTransport, RetryableFailure, looks_like_html
from oracle_mailchimp_dagster.http.transport import ResponseHook

log = logging.getLogger(__name__)

# Structured ADF errors when the pod supports them, plain JSON for data.
ACCEPT = "application/json, application/vnd.oracle.adf.error+json"
_FIELDS = ",".join(CUSTOMER_FIELDS)
_LOOKUP_CHUNK = 100


def transient_reason(response: requests.Response) -> str | None:
    """Which answers are worth another attempt: 408, 429, 5xx, and HTML pages where JSON belongs."""
    status = response.status_code
    if status in (408, 429) or status >= 500:
        return f"HTTP {status}" + (" (HTML page)" if looks_like_html(response) else "")
    if 200 <= status < 300 and looks_like_html(response):
        return f"HTML page with HTTP {status}"
    return None


class CustomerExtraction:
    """One pass over the customers changed in a window; iterate once, then read `stats` and `cursor`.

    Rows stream page by page (the next page is requested while the current one is consumed), so
    memory holds at most two pages whatever the window size.
    """

    def __init__(self, client: "FusionClient", pager: KeysetPager, resume: CustomerCursor | None) -> None:
        self._client = client
        self._pager = pager
        self._resume = resume
        self._started = False
        self.stats = CallCounters()
        self.since = pager.since
        self.until = pager.until

    @property
    def cursor(self) -> CustomerCursor | None:
        """Where a later extraction may resume: the last (LastUpdateDate, PartyId) read, never before
        the mark this one resumed from (a look-back re-read does not move it backwards)."""
        seen = self._pager.cursor
        if self._resume is None or seen is None:
            return seen or self._resume
        return max(seen, self._resume)

    def __iter__(self) -> Iterator[FusionCustomer]:
        if self._started:
            raise RuntimeError("a CustomerExtraction can be iterated only once")
        self._started = True
        return self._rows()

    def _rows(self) -> Iterator[FusionCustomer]:
        pager = self._pager
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fusion-prefetch") as prefetch:
            pending: Future[CustomerPage] = prefetch.submit(self._fetch, pager.next_q())
            try:
                while True:
                    page = pending.result()
                    try:
                        result = pager.accept(page.items, page.has_more)
                    except NoProgressError as exc:
                        raise FusionResponseError(self._client.connection.tenant, str(exc)) from None
                    if not pager.done:
                        pending = prefetch.submit(self._fetch, pager.next_q())
                    self.stats.add("records", len(result.new_rows))
                    if result.dropped:
                        self.stats.add("duplicates_dropped", result.dropped)
                    yield from result.new_rows
                    if pager.done:
                        return
            finally:
                pending.cancel()

    def _fetch(self, q: str | None) -> CustomerPage:
        params: dict[str, Any] = {
            "orderBy": ORDER_BY,
            "limit": self._pager.page_size,
            "onlyData": "true",
            "fields": _FIELDS,
        }
        if q is not None:
            params["q"] = q
        response = self._client._get(params, (self._client.stats, self.stats))
        self.stats.add("pages")
        return self._client._parse_page(response)


class FusionClient:
    """Reads one tenant's customers. Thread-safe; one pooled session; tokens shared process-wide."""

    def __init__(
        self,
        connection: FusionConnection,
        options: FusionClientOptions | None = None,
        *,
        session: requests.Session | None = None,
        response_hooks: Iterable[ResponseHook] = (),
        token_cache: TokenCache = PROCESS_TOKEN_CACHE,
    ) -> None:
        self.connection = connection
        self.options = options or FusionClientOptions()
        self.stats = CallCounters()
        self._tokens = token_cache
        self._transport = HttpTransport(
            retry=self.options.retry,
            timeouts=self.options.timeouts,
            session=session,
            pool_maxsize=4,
            response_hooks=response_hooks,
        )
        self._headers = {
            "Accept": ACCEPT,
            "REST-Framework-Version": str(connection.framework_version),
        }

    def __repr__(self) -> str:
        return f"FusionClient(tenant={self.connection.tenant!r}, base_url={self.connection.base_url!r})"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "FusionClient":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- public operations -------------------------------------------------------------------

    def extract_customers(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: CustomerCursor | None = None,
        overlap: timedelta | None = None,
    ) -> CustomerExtraction:
        """Customers with `since <= LastUpdateDate < until`, in (LastUpdateDate, PartyId) order.

        Resuming from a high-water mark, pass it as `after`: the window then starts `overlap`
        (default: the client's look-back) before the mark, to catch late commits; with a zero
        overlap it starts strictly after the mark. Pass a fixed `until` (e.g. the run's start):
        records that change while paging move past it and are caught by the next window, so each
        customer is returned at most once per extraction.
        """
        for name, value in (("since", since), ("until", until)):
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware")
        look_back = self.options.overlap if overlap is None else overlap
        resume = after
        if after is not None and look_back > timedelta(0):
            since, after = after.last_update_date - look_back, None
        pager = KeysetPager(
            self.connection.framework_version, self.options.page_size, since=since, until=until, after=after
        )
        return CustomerExtraction(self, pager, resume)

    def has_changes_after(self, after: datetime) -> bool:
        """The cheapest question a pod answers: is there any customer with LastUpdateDate > after?"""
        params = {
            "q": changed_after_q(self.connection.framework_version, after),
            "limit": 1,
            "fields": "PartyId",
            "onlyData": "true",
        }
        response = self._get(params, (self.stats,))
        try:
            body = orjson.loads(response.content)
            return bool(body["items"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise FusionResponseError(
                self.connection.tenant, "probe answer is not an ADF collection"
            ) from None

    def check_token(self) -> None:
        """Obtain an OAuth access token (through the token cache), or raise why not.

        Raises FusionAuthError (with `status` and `oauth_error`) when the identity domain refuses,
        FusionUnavailableError when it cannot be reached. Basic auth has no token: nothing to do.
        """
        auth = self.connection.auth
        if isinstance(auth, FusionOAuth):
            self._token(auth, (self.stats,))

    def fetch_sample(self, limit: int = 1) -> int:
        """Read up to `limit` customers (PartyId only) and return how many came back.

        Proves the credentials can read the resource. Zero rows is an answer too: Fusion returns an
        empty collection, not 403, to a user without data access.
        """
        if not 1 <= limit <= 500:
            raise ValueError("limit must be between 1 and 500")
        params = {"limit": limit, "fields": "PartyId", "onlyData": "true"}
        response = self._get(params, (self.stats,))
        try:
            items = orjson.loads(response.content)["items"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            items = None
        if not isinstance(items, list):
            raise FusionResponseError(self.connection.tenant, "sample answer is not an ADF collection")
        return len(items)

    def fetch_customers(self, party_ids: Iterable[int]) -> Iterator[FusionCustomer]:
        """Current state of the given customers by PartyId (replays, retries); unknown ids are absent."""
        ids = sorted(set(party_ids))
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start : start + _LOOKUP_CHUNK]
            yield from self._lookup(party_ids_q(self.connection.framework_version, chunk), len(chunk))

    def fetch_customers_by_numbers(self, party_numbers: Iterable[str]) -> Iterator[FusionCustomer]:
        """Current state of the given customers by PartyNumber; unknown numbers are absent."""
        numbers = sorted(set(party_numbers))
        for start in range(0, len(numbers), _LOOKUP_CHUNK):
            chunk = numbers[start : start + _LOOKUP_CHUNK]
            yield from self._lookup(party_numbers_q(self.connection.framework_version, chunk), len(chunk))

    def _lookup(self, q: str, size: int) -> list[FusionCustomer]:
        params = {"q": q, "orderBy": "PartyId:asc", "limit": size, "onlyData": "true", "fields": _FIELDS}
        page = self._parse_page(self._get(params, (self.stats,)))
        self.stats.add("pages")
        return page.items

    # ---- wire ---------------------------------------------------------------------------------

    def _get(self, params: dict[str, Any], counters: tuple[CallCounters, ...]) -> requests.Response:
        """GET the resource with credentials; one token refresh and retry on 401, typed errors else."""
        auth = self.connection.auth
        tenant = self.connection.tenant
        if isinstance(auth, FusionBasicAuth):
            response = self._send(
                params, {}, HTTPBasicAuth(auth.username, auth.password.get_secret_value()), counters
            )
            if response.status_code == 401:
                raise FusionAuthError(
                    tenant,
                    f"the pod rejected Basic credentials for user '{auth.username}' (HTTP 401): check the "
                    "password and that the user is a local (non-SSO) integration user.",
                    status=401,
                )
        else:
            token = self._token(auth, counters)
            response = self._send(params, _bearer(token), None, counters)
            if response.status_code == 401:
                log.info("Oracle Fusion tenant '%s': token rejected, fetching a new one", tenant)
                self._tokens.invalidate(_token_key(auth), token)
                token = self._token(auth, counters)
                response = self._send(params, _bearer(token), None, counters)
                if response.status_code == 401:
                    raise FusionAuthError(
                        tenant,
                        "the pod rejected a freshly issued token twice (HTTP 401): check that the OAuth "
                        f"client '{auth.client_id}' is mapped to a Fusion user with access to "
                        f"{self.connection.resource_path}, and that the scope names this pod's instance.",
                        status=401,
                    )
        if response.status_code >= 400:
            details = parse_error_details(response.headers.get("Content-Type", ""), response.content)
            raise FusionRequestError(tenant, response.status_code, details, hint_for(response.status_code))
        return response

    def _send(
        self,
        params: dict[str, Any],
        auth_headers: dict[str, str],
        auth: HTTPBasicAuth | None,
        counters: tuple[CallCounters, ...],
    ) -> requests.Response:
        try:
            return self._transport.send(
                "GET",
                self.connection.resource_url,
                transient=transient_reason,
                counters=counters,
                params=params,
                headers={**self._headers, **auth_headers},
                auth=auth,
            )
        except RetryableFailure as failure:
            raise FusionUnavailableError(
                self.connection.tenant,
                failure.reason,
                failure.attempts,
                failure.elapsed_s,
                status=_last_status(failure),
            ) from None

    def _token(self, auth: FusionOAuth, counters: tuple[CallCounters, ...]) -> SecretStr:
        def fetch() -> IssuedToken:
            for counter in counters:
                counter.add("token_fetches")
            return self._fetch_token(auth, counters)

        token, _ = self._tokens.get(_token_key(auth), fetch, self.options.token_refresh_margin_s)
        return token

    def _fetch_token(self, auth: FusionOAuth, counters: tuple[CallCounters, ...]) -> IssuedToken:
        tenant = self.connection.tenant
        try:
            response = self._transport.send(
                "POST",
                auth.token_url,
                transient=transient_reason,
                counters=counters,
                data={"grant_type": "client_credentials", "scope": auth.scope},
                auth=HTTPBasicAuth(auth.client_id, auth.client_secret.get_secret_value()),
                headers={"Accept": "application/json"},
            )
        except RetryableFailure as failure:
            raise FusionUnavailableError(
                tenant,
                f"token endpoint: {failure.reason}",
                failure.attempts,
                failure.elapsed_s,
                status=_last_status(failure),
            ) from None
        if response.status_code != 200:
            code = _oauth_error_code(response)
            raise FusionAuthError(
                tenant,
                _token_failure(response.status_code, code, auth),
                status=response.status_code,
                oauth_error=code,
            )
        try:
            body = orjson.loads(response.content)
            return IssuedToken(SecretStr(str(body["access_token"])), float(body.get("expires_in", 3600)))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise FusionAuthError(
                tenant, "the token endpoint answered 200 without an access_token", status=200
            ) from None

    def _parse_page(self, response: requests.Response) -> CustomerPage:
        try:
            return CustomerPage.model_validate_json(response.content)
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            raise FusionResponseError(
                self.connection.tenant, f"unexpected customer page ({where}: {first['msg']})"
            ) from None


def _token_key(auth: FusionOAuth) -> TokenKey:
    return TokenKey(auth.token_url, auth.client_id, auth.scope)


def _bearer(token: SecretStr) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.get_secret_value()}"}


def _last_status(failure: RetryableFailure) -> int | None:
    return failure.response.status_code if failure.response is not None else None


_OAUTH_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _oauth_error_code(response: requests.Response) -> str | None:
    """The OAuth `error` code of a token refusal (RFC 6749 5.2), if the body has a well-formed one."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and _OAUTH_ERROR_CODE.match(code) else None


def _token_failure(status: int, code: str | None, auth: FusionOAuth) -> str:
    """Why the identity domain refused a token, and what to check, without echoing a secret."""
    answer = f"HTTP {status} {code}" if code else f"HTTP {status}"
    if code == "invalid_client" or status == 401:
        return (
            f"the identity domain rejected OAuth client '{auth.client_id}' ({answer}): "
            "check the client id and client secret."
        )
    if code == "invalid_scope":
        return (
            f"the identity domain rejected scope '{auth.scope}' ({answer}): expected "
            "urn:opc:resource:fa:instanceid=<id>urn:opc:resource:consumer::all for this pod."
        )
    return f"the token request failed ({answer}): check the token URL."
