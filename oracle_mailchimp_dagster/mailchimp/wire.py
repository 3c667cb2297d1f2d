"""One Mailchimp request on the wire: credentials, the API base, the key's shared limit, retries, errors.

Every call the client makes goes through `MailchimpWire._call` (or `_json`), so the per-key limits,
the retry policy and the error taxonomy apply to all of them alike.
"""

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import orjson
import requests
from pydantic import ValidationError
from requests.auth import HTTPBasicAuth

from oracle_mailchimp_dagster.http import (
    CallCounters,
    HttpTransport,
    Redactor,
    RedirectRefused,
    RetryableFailure,
    TransportRefusal,
    looks_like_html,
)
from oracle_mailchimp_dagster.http.transport import ResponseHook
from oracle_mailchimp_dagster.mailchimp.endpoints import (
    MalformedApiKey,
    api_base_for_dc,
    api_base_from_endpoint,
    data_center,
)
from oracle_mailchimp_dagster.mailchimp.errors import (
    ErrorKind,
    MailchimpConfigurationError,
    Scope,
    configuration_error,
    error_for,
)
from oracle_mailchimp_dagster.mailchimp.limits import ConcurrencyLimiter, ConnectionGate, limiter_for_key
from oracle_mailchimp_dagster.mailchimp.problems import problem_from_body, retryable_problem
from oracle_mailchimp_dagster.mailchimp.settings import MailchimpClientOptions, MailchimpConnection
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint

_JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def transient_reason(response: requests.Response) -> str | None:
    """408, 429 and 5xx (except Mailchimp's "Compliance Related" 503), and HTML pages where JSON belongs."""
    status = response.status_code
    if status in (408, 429) or (
        status >= 500 and b"compliance related" not in response.content[:512].lower()
    ):
        return f"HTTP {status}" + (" (HTML page)" if looks_like_html(response) else "")
    if 200 <= status < 300 and looks_like_html(response):
        return f"HTML page with HTTP {status}"
    return None


class MailchimpWire:
    """One Mailchimp account's connection. Thread-safe; every request holds a slot of the key's limit
    in this process and, given a `gate`, one of the key's slots across processes."""

    def __init__(
        self,
        connection: MailchimpConnection,
        options: MailchimpClientOptions | None = None,
        *,
        session: requests.Session | None = None,
        response_hooks: Iterable[ResponseHook] = (),
        gate: ConnectionGate | None = None,
    ) -> None:
        self.connection = connection
        self._gate = gate
        self.options = options or MailchimpClientOptions()
        self.stats = CallCounters()
        secret = connection.secret.get_secret_value()
        if connection.api_key is not None:
            try:
                self._dc: str | None = data_center(secret)
            except MalformedApiKey as exc:
                raise configuration_error(str(exc)) from None
            self._auth: HTTPBasicAuth | None = HTTPBasicAuth("oracle-mailchimp", secret)
            self._auth_headers: dict[str, str] = {}
        else:
            self._dc = None
            self._auth = None
            self._auth_headers = {"Authorization": f"Bearer {secret}"}
        self._api_base = connection.api_base or (api_base_for_dc(self._dc) if self._dc else None)
        self._api_base_lock = threading.Lock()
        self.key_id = credential_fingerprint(secret)
        # The key or token, in every encoding, is cut from whatever Mailchimp (or a proxy) echoes back.
        self._redact = Redactor([secret])
        self.limiter: ConcurrencyLimiter = limiter_for_key(secret, self.options.concurrency)
        self._transport = HttpTransport(
            retry=self.options.retry,
            timeouts=self.options.timeouts,
            session=session,
            pool_maxsize=max(10, self.options.concurrency),
            max_response_bytes=self.options.max_response_bytes,
            response_hooks=response_hooks,
        )

    def close(self) -> None:
        self._transport.close()

    @property
    def api_base(self) -> str:
        """The versioned base URL: override, API key data center, or the OAuth metadata endpoint."""
        if self._api_base is None:
            with self._api_base_lock:
                if self._api_base is None:
                    self._api_base = self._discover_api_base()
        return self._api_base

    def _json(
        self,
        method: str,
        path: str,
        *,
        scope: Scope = "member",
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """`_call`, and its answer as a JSON object (anything else is a retryable failure)."""
        response = self._call(
            method, path, scope=scope, json_body=json_body, params=params, idempotent=idempotent
        )
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            raise error_for(
                retryable_problem(
                    "Unreadable response", response.status_code, "the answer is not a JSON object"
                ),
                f"{method} {path}",
            )
        return body

    def _call(
        self,
        method: str,
        path: str,
        *,
        scope: Scope = "member",
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> requests.Response:
        """Send one request under the key's limit, retried per policy; raise the taxonomy's error."""
        context = f"{method} {path}"
        data = orjson.dumps(json_body) if json_body is not None else None
        try:
            response = self._transport.send(
                method,
                self.api_base + path,
                transient=transient_reason,
                slot=self._slot,
                counters=(self.stats,),
                idempotent=idempotent,
                params=params,
                data=data,
                headers={**_JSON, **self._auth_headers},
                auth=self._auth,
            )
        except RetryableFailure as failure:
            last = failure.response
            problem = (
                problem_from_body(
                    last.status_code,
                    last.headers.get("Content-Type", ""),
                    last.content,
                    scope=scope,
                    redact=self._redact,
                )
                if last is not None
                else retryable_problem(failure.reason)
            )
            raise error_for(problem, f"{context} failed after {failure.attempts} attempt(s)") from None
        except TransportRefusal as refusal:
            raise _refused(refusal, "API base URL", context) from None
        except requests.RequestException as exc:
            raise error_for(retryable_problem(type(exc).__name__), context) from None
        if response.status_code >= 400:
            problem = problem_from_body(
                response.status_code,
                response.headers.get("Content-Type", ""),
                response.content,
                scope=scope,
                request_id=response.headers.get("X-Request-Id"),
                redact=self._redact,
            )
            if problem.kind is ErrorKind.CONFIGURATION and response.status_code in (401, 403):
                fix = "check the API key (or OAuth token) and its data center"
                detail = f"{problem.detail} — {fix}" if problem.detail else fix
                raise error_for(replace(problem, detail=detail), context)
            if problem.kind is ErrorKind.CONFIGURATION and response.status_code == 404:
                detail = "list or resource not found — check the list id"
                raise error_for(replace(problem, detail=detail), context)
            raise error_for(problem, context)
        return response

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """The process's slot first (its threads queue here without touching the database), then the
        key's slot across processes, so a process never holds more gate slots than `concurrency`."""
        with self.limiter.slot():
            if self._gate is None:
                yield
                return
            with self._gate.slot(self.key_id):
                yield

    def _discover_api_base(self) -> str:
        """OAuth: ask the metadata endpoint which data center the token belongs to."""
        token = self.connection.secret.get_secret_value()
        try:
            response = self._transport.send(
                "GET",
                self.connection.metadata_url,
                transient=transient_reason,
                counters=(self.stats,),
                headers={"Authorization": f"OAuth {token}", "Accept": "application/json"},
            )
        except RetryableFailure as failure:
            raise error_for(retryable_problem(f"OAuth metadata: {failure.reason}")) from None
        except TransportRefusal as refusal:
            raise _refused(refusal, "OAuth metadata URL", "OAuth metadata") from None
        if response.status_code != 200:
            raise configuration_error(
                f"the OAuth metadata endpoint refused the token (HTTP {response.status_code}): "
                "reconnect the account",
                response.status_code,
            )
        try:
            endpoint = orjson.loads(response.content)["api_endpoint"]
            return api_base_from_endpoint(str(endpoint))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValidationError):
            raise configuration_error("the OAuth metadata answer has no api_endpoint") from None


def _refused(refusal: TransportRefusal, url_name: str, context: str) -> MailchimpConfigurationError:
    """A redirect or an over-cap answer: configuration (wrong URL, cap too small), never retried.

    No status: the redirect's is in the message, and a 3xx is not an answer from the API.
    """
    if isinstance(refusal, RedirectRefused):
        fix = f"check the {url_name}"
    else:
        fix = "raise the client's max_response_bytes or ask for smaller pages"
    return configuration_error(f"{context}: {refusal}: {fix}")
