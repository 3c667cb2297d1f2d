"""Send one logical request with bounded, jittered retries on transient failures (tenacity)."""

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
)

from oracle_mailchimp_dagster.http.policy import RetryPolicy, Timeouts, backoff_seconds, parse_retry_after
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


class RetryableFailure(Exception):
    """One attempt failed transiently; after the last attempt it carries the totals for the caller."""

    def __init__(
        self,
        reason: str,
        *,
        response: requests.Response | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.retry_after_s = retry_after_s
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
        response_hooks: Iterable[ResponseHook] = (),
        on_retry: Callable[[RetryEvent], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.retry = retry
        self.timeouts = timeouts
        self.session = session if session is not None else build_session(pool_maxsize)
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
        the server cannot have acted on it (429, connect timeout).
        """
        policy = self.retry
        path = urlsplit(url).path
        started = time.monotonic()

        def attempt() -> requests.Response:
            for counter in counters:
                counter.add("http_calls")
            with slot():
                try:
                    response = self.session.request(
                        method, url, timeout=self.timeouts.as_requests(), hooks=self._hook_map(), **kwargs
                    )
                except _TRANSIENT_ERRORS as exc:
                    if not idempotent and not isinstance(exc, requests.ConnectTimeout):
                        raise
                    raise RetryableFailure(type(exc).__name__) from exc
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
            retry=retry_if_exception_type(RetryableFailure),
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

    def _hook_map(self) -> dict[str, list[ResponseHook]] | None:
        # The body is read before caller hooks run, so a connection dropped mid-body surfaces as a
        # transient transport error here rather than inside a hook.
        return {"response": [_read_body, *self._hooks]} if self._hooks else None


def _read_body(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    _ = response.content
