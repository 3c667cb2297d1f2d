"""Oracle Fusion REST client: keyset extraction of changed customers, lookups by key, and probes.

The request and auth plumbing lives in `wire`, token requests in `oauth`, paging in `extraction`.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import orjson
import requests

from oracle_mailchimp_dagster.fusion.errors import FusionResponseError
from oracle_mailchimp_dagster.fusion.extraction import CustomerExtraction
from oracle_mailchimp_dagster.fusion.keyset import KeysetPager
from oracle_mailchimp_dagster.fusion.pages import FIELDS, ReadPage, parse_page
from oracle_mailchimp_dagster.fusion.query import (
    CustomerCursor,
    changed_after_q,
    party_ids_q,
    party_numbers_q,
)
from oracle_mailchimp_dagster.fusion.records import FusionCustomer, QuarantinedRow
from oracle_mailchimp_dagster.fusion.settings import FusionClientOptions, FusionConnection, FusionOAuth
from oracle_mailchimp_dagster.fusion.tokens import PROCESS_TOKEN_CACHE, TokenCache
from oracle_mailchimp_dagster.fusion.wire import FusionWire
from oracle_mailchimp_dagster.http import CallCounters
from oracle_mailchimp_dagster.http.transport import ResponseHook

_LOOKUP_CHUNK = 100


class CustomerLookup:
    """Customers looked up by key, a chunk per request as iterated; iterate once, then read
    `quarantined`: the rows that did not validate, kept aside as in an extraction."""

    def __init__(self, client: "FusionClient", queries: list[tuple[str, int]]) -> None:
        self._client = client
        self._queries = queries
        self._quarantined: list[QuarantinedRow] = []
        self._started = False

    @property
    def quarantined(self) -> tuple[QuarantinedRow, ...]:
        return tuple(self._quarantined)

    def __iter__(self) -> Iterator[FusionCustomer]:
        if self._started:
            raise RuntimeError("a CustomerLookup can be iterated only once")
        self._started = True
        return self._rows()

    def _rows(self) -> Iterator[FusionCustomer]:
        for q, size in self._queries:
            page = self._client._lookup(q, size)
            quarantined = page.quarantined
            if quarantined:
                self._quarantined.extend(quarantined)
                self._client.stats.add("quarantined", len(quarantined))
            yield from page.customers


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
        self._wire = FusionWire(
            connection,
            self.options,
            session=session,
            response_hooks=response_hooks,
            token_cache=token_cache,
        )

    def __repr__(self) -> str:
        return f"FusionClient(tenant={self.connection.tenant!r}, base_url={self.connection.base_url!r})"

    def close(self) -> None:
        self._wire.close()

    def __enter__(self) -> "FusionClient":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- keyset extraction -------------------------------------------------------------------

    def extract_customers(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: CustomerCursor | None = None,
        overlap: timedelta | None = None,
    ) -> CustomerExtraction:
        """Customers with `since <= LastUpdateDate < until`, each once, in (LastUpdateDate, PartyId)
        order (with `extract_concurrency` above 1: in that order within each LastUpdateDate slice,
        slices interleaved; `cursor` is the largest key once every slice is done).

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

    # ---- probes ------------------------------------------------------------------------------

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
            self._wire.token(auth, (self.stats,))

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

    # ---- lookups by key ----------------------------------------------------------------------

    def fetch_customers(self, party_ids: Iterable[int]) -> CustomerLookup:
        """Current state of the given customers by PartyId (replays, retries); unknown ids are absent,
        malformed rows are in the lookup's `quarantined`."""
        ids = sorted(set(party_ids))
        version = self.connection.framework_version
        chunks = [ids[start : start + _LOOKUP_CHUNK] for start in range(0, len(ids), _LOOKUP_CHUNK)]
        return CustomerLookup(self, [(party_ids_q(version, chunk), len(chunk)) for chunk in chunks])

    def fetch_customers_by_numbers(self, party_numbers: Iterable[str]) -> CustomerLookup:
        """Current state of the given customers by PartyNumber; unknown numbers are absent, malformed
        rows are in the lookup's `quarantined`."""
        numbers = sorted(set(party_numbers))
        version = self.connection.framework_version
        chunks = [numbers[start : start + _LOOKUP_CHUNK] for start in range(0, len(numbers), _LOOKUP_CHUNK)]
        return CustomerLookup(self, [(party_numbers_q(version, chunk), len(chunk)) for chunk in chunks])

    def _lookup(self, q: str, size: int) -> ReadPage:
        params = {"q": q, "orderBy": "PartyId:asc", "limit": size, "onlyData": "true", "fields": FIELDS}
        page = parse_page(self.connection.tenant, self._get(params, (self.stats,)))
        self.stats.add("pages")
        return page

    def _get(self, params: dict[str, Any], counters: tuple[CallCounters, ...]) -> requests.Response:
        """GET the resource through the wire; CustomerExtraction shares it to count into both stats."""
        return self._wire.get(params, counters)
