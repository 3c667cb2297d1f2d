"""Send one logical request with bounded, jittered retries on transient failures (tenacity).

Each attempt runs under an overall deadline (`Timeouts.deadline_s`), reads at most
`max_response_bytes` of body, and never follows a redirect.
"""

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from oracle_mailchimp_dagster.http.body import capped_reader
from oracle_mailchimp_dagster.http.deadline import Deadline
from oracle_mailchimp_dagster.http.policy import (
    DEFAULT_MAX_RESPONSE_BYTES,
    RetryPolicy,
    Timeouts,
    backoff_seconds,
    parse_retry_after,
)
from oracle_mailchimp_dagster.http.redaction import host_of
from oracle_mailchimp_dagster.http.refusals import RedirectRefused, TransportRefusal
from oracle_mailchimp_dagster.http.session import build_session
from oracle_mailchimp_dagster.http.stats import CallCounters

log = logging.getLogger(__name__)

ResponseHook = Callable[..., Any]
# Decides whether a response is a transient failure; returns a short reason ("HTTP 503") or None.
Verdict = Callable[[requests.Response], str | None]
SlotFactory = Callable[[], AbstractContextManager[object]]

# Failures where the server may never have seen the request, or never finished answering it.
_TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class _DeadlinePassed(Exception):
    """The attempt's deadline passed while it ran (raised and caught within one attempt)."""


class RetryableFailure(Exception):
    """One attempt failed transiently; after the last attempt it carries the totals for the caller.

    `final` marks a failure that must not be retried although it is transient (a non-idempotent
    call that ran out of time: the server may have acted on it).
    """

    def __init__(
        self,
        reason: str,
        *,
        response: requests.Response | None = None,
        retry_after_s: float | None = None,
        final: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.retry_after_s = retry_after_s
        self.final = final
        self.attempts = 1
        self.elapsed_s = 0.0


@dataclass(frozen=True)
class RetryEvent:
    """A retry about to happen: what failed, which attempt, how long we wait."""

    method: str
    path: str
    attempt: int
    reason: str
    wait_s: float


def looks_like_html(response: requests.Response) -> bool:
    """True for an HTML page where an API answer was expected (a proxy, CDN or maintenance page)."""
    content_type = response.headers.get("Content-Type", "").lower()
    if "html" in content_type:
        return True
    head = response.content[:64].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


class HttpTransport:
    """A pooled session plus the retry policy and timeouts every call goes through."""

    def __init__(
        self,
        *,
        retry: RetryPolicy,
        timeouts: Timeouts,
        session: requests.Session | None = None,
        pool_maxsize: int = 10,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        response_hooks: Iterable[ResponseHook] = (),
        on_retry: Callable[[RetryEvent], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.retry = retry
        self.timeouts = timeouts
        # A session of one's own should come from build_session: its adapter enforces the deadline.
        self.session = session if session is not None else build_session(pool_maxsize)
        self.max_response_bytes = max_response_bytes
        self._hooks = list(response_hooks)
        self._on_retry = on_retry
        self._sleep = sleep
        self._rng = rng or random.Random()

    def close(self) -> None:
        self.session.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        transient: Verdict,
        slot: SlotFactory = nullcontext,
        counters: Sequence[CallCounters] = (),
        idempotent: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        """Send until a non-transient answer, or raise the last RetryableFailure when the policy is spent.

        `slot` is entered around each attempt only (never around a backoff sleep), so a concurrency
        limit holds while waiting threads do not hold it. A non-idempotent call is retried only when
        the server cannot have acted on it (429, connect timeout). A 3xx raises RedirectRefused and a
        body over the cap ResponseTooLarge (both TransportRefusal, never retried); an attempt past
        its deadline fails as "timed out after N s", retried like any timeout.
        """
        policy = self.retry
        path = urlsplit(url).path
        started = time.monotonic()
        deadline_s = self.timeouts.deadline_s

        def attempt() -> requests.Response:
            for counter in counters:
                counter.add("http_calls")
            deadline = Deadline(deadline_s)
            with slot():
                try:
                    with deadline:
                        response = self.session.request(
                            method,
                            url,
                            timeout=self.timeouts.as_requests(),
                            hooks=self._hook_map(),
                            stream=True,
                            allow_redirects=False,
                            **kwargs,
                        )
                        if deadline.expired:
                            # The answer may be cut short: a shut-down socket reads as a clean end.
                            raise _DeadlinePassed
                except TransportRefusal:
                    raise
                except Exception as exc:
                    if deadline.expired:
                        # The deadline shut the socket down; whatever broke, it was the clock.
                        timed_out = f"timed out after {deadline_s:g} s (the request deadline)"
                        raise RetryableFailure(timed_out, final=not idempotent) from None
                    if not isinstance(exc, _TRANSIENT_ERRORS):
                        raise
                    if not idempotent and not isinstance(exc, requests.ConnectTimeout):
                        raise
                    raise RetryableFailure(type(exc).__name__) from exc
            _refuse_redirect(url, response)
            reason = transient(response)
            if reason is not None and (idempotent or response.status_code == 429):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise RetryableFailure(reason, response=response, retry_after_s=retry_after)
            return response

        def wait(state: RetryCallState) -> float:
            failure = state.outcome.exception() if state.outcome else None
            retry_after = failure.retry_after_s if isinstance(failure, RetryableFailure) else None
            return backoff_seconds(state.attempt_number, policy, retry_after, self._rng)

        def before_sleep(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            reason = str(failure) if failure else "unknown"
            wait_s = state.next_action.sleep if state.next_action else 0.0
            for counter in counters:
                counter.add("retries")
            log.warning(
                "retrying %s %s after %s (attempt %d of %d, waiting %.2fs)",
                method,
                path,
                reason,
                state.attempt_number,
                policy.max_attempts,
                wait_s,
            )
            if self._on_retry is not None:
                self._on_retry(RetryEvent(method, path, state.attempt_number, reason, wait_s))

        retrying = Retrying(
            stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_total_s),
            wait=wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, RetryableFailure) and not exc.final),
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except RetryableFailure as failure:
            failure.attempts = int(retrying.statistics.get("attempt_number", 1))
            failure.elapsed_s = time.monotonic() - started
            raise

    def _hook_map(self) -> dict[str, list[ResponseHook]]:
        # The body is read (capped, within the deadline) before caller hooks run, so a connection
        # dropped mid-body surfaces as a transient transport error here rather than inside a hook.
        return {"response": [capped_reader(self.max_response_bytes), *self._hooks]}


def _refuse_redirect(url: str, response: requests.Response) -> None:
    """Any 3xx stops here, naming only the host it points to (a Location may carry a token)."""
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location")
        target = host_of(urljoin(url, location)) if location else None
        raise RedirectRefused(response.status_code, target)
