"""Deliver the alert outbox: one POST per alert to its tenant's webhook, retried across ticks with backoff.

Each pass claims the due rows (see `store.alert_outbox`), posts each once through the shared transport
(timeouts and a deadline per attempt, a capped answer, no redirect followed: a 3xx is a failed attempt
naming only the host it pointed to) and records the outcome: delivered, or failed with the reason and
the time of the next attempt. The claim outlasts the attempt, so two deliverers never post one row at
the same time; a row is posted again only after a failed attempt (or one whose answer never came).

One tenant's webhook cannot hold up the others: after its first failure in a pass its other rows wait
for the next pass, and the pass stops starting attempts when its time budget is spent. Messages name
the webhook's host, never its URL (the path is a token).
"""

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from pydantic import SecretStr

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http import (
    HttpTransport,
    RetryableFailure,
    RetryPolicy,
    Timeouts,
    TransportRefusal,
    host_of,
)
from oracle_mailchimp_dagster.http.redaction import Redactor
from oracle_mailchimp_dagster.pipeline.alerts import slack_payload
from oracle_mailchimp_dagster.store.alert_outbox import AlertOutbox, OutboxEntry

# One attempt: a webhook answers in milliseconds; a slow one must not hold a sensor tick.
TIMEOUTS = Timeouts(connect_s=5.0, read_s=10.0, deadline_s=15.0)
# Longer than an attempt can take, with room to record it: no other deliverer can claim the row meanwhile.
CLAIM_TTL = timedelta(seconds=120)
MAX_ANSWER_BYTES = 64 * 1024
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
# A Slack answer is "ok" or a short error code; enough of it to explain a refusal.
ANSWER_CHARS = 100

WebhookOf = Callable[[str], SecretStr | None]


class WebhookFailure(Exception):
    """An attempt that did not deliver: why (host and status, never the URL), and any Retry-After."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


def retry_delay(attempts: int, retry_after_s: float | None = None, draw: float = 1.0) -> timedelta:
    """Wait after failed attempt number `attempts`: 30 s doubling to at most an hour, with equal jitter
    (`draw` in [0, 1]); a server's Retry-After wins, within the same cap. Pure."""
    if retry_after_s is not None:
        return min(timedelta(seconds=max(retry_after_s, 0.0)), MAX_RETRY)
    step = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)
    return step / 2 + step / 2 * draw


def webhook_transport() -> HttpTransport:
    """One attempt per call (retries happen across passes, from the outbox), bounded in time and size."""
    return HttpTransport(
        retry=RetryPolicy(max_attempts=1, max_total_s=TIMEOUTS.deadline_s),
        timeouts=TIMEOUTS,
        pool_maxsize=2,
        max_response_bytes=MAX_ANSWER_BYTES,
    )


class _HideInLogs(logging.Filter):
    """Redacts the webhook URLs being posted from urllib3's records: its DEBUG line names the request
    path (`"POST /services/T.../B.../token HTTP/1.1" 200`), which is the webhook's token."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: dict[str, int] = {}

    @contextmanager
    def hiding(self, url: str) -> Iterator[None]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        values = [url, *([path] if path not in ("", "/") else [])]
        with self._lock:
            for value in values:
                self._secrets[value] = self._secrets.get(value, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                for value in values:
                    self._secrets[value] -= 1
                    if not self._secrets[value]:
                        del self._secrets[value]

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            secrets = list(self._secrets)
        if secrets:
            message = record.getMessage()
            if any(secret in message for secret in secrets):
                record.msg, record.args = Redactor(secrets)(message), ()
        return True


_HIDE_IN_LOGS = _HideInLogs()
logging.getLogger("urllib3.connectionpool").addFilter(_HIDE_IN_LOGS)


def _not_delivered(response: requests.Response) -> str | None:
    if 200 <= response.status_code < 300:
        return None
    answer = " ".join(response.text[:ANSWER_CHARS].split()) if response.content else ""
    return f"HTTP {response.status_code}" + (f" ({answer})" if answer else "")


def post_alert(transport: HttpTransport, url: SecretStr, text: str) -> None:
    """POST the Slack-compatible payload once; raise WebhookFailure unless the answer is 2xx."""
    target = url.get_secret_value()
    host = host_of(target)
    redact = Redactor([url])
    try:
        with _HIDE_IN_LOGS.hiding(target):
            transport.send("POST", target, transient=_not_delivered, json=slack_payload(redact(text)))
    except RetryableFailure as failure:
        raise WebhookFailure(f"{host}: {redact(failure.reason)}", failure.retry_after_s) from None
    except TransportRefusal as refusal:
        raise WebhookFailure(f"{host}: {refusal}") from None
    except requests.RequestException as exc:  # a malformed URL or TLS setup: never its message (the URL)
        raise WebhookFailure(f"{host}: {type(exc).__name__}") from None


@dataclass
class DeliveryReport:
    """What a pass did; `problems` name the tenant and the reason (hosts, never URLs)."""

    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    postponed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AlertDeliverer:
    """Delivers the outbox's due rows to each tenant's webhook (`webhook_of`: the current URL or None)."""

    outbox: AlertOutbox
    webhook_of: WebhookOf
    holder: str
    transport_factory: Callable[[], HttpTransport] = webhook_transport
    clock: Callable[[], datetime] = _utc_now
    rng: random.Random = field(default_factory=random.Random)

    def deliver_due(self, *, limit: int = 50, budget_s: float = 40.0) -> DeliveryReport:
        report = DeliveryReport()
        entries = self.outbox.claim(self.holder, ttl=CLAIM_TTL, limit=limit)
        if not entries:
            return report
        started = time.monotonic()
        troubled: set[str] = set()
        transport = self.transport_factory()
        try:
            for entry in entries:
                out_of_time = time.monotonic() - started + TIMEOUTS.deadline_s > budget_s
                if entry.tenant_id in troubled or out_of_time or not self._claim_lasts(entry):
                    self.outbox.release(entry)
                    report.postponed.append(entry.event_key)
                    continue
                if not self._deliver(entry, transport, report):
                    troubled.add(entry.tenant_id)
        finally:
            transport.close()
        return report

    def _claim_lasts(self, entry: OutboxEntry) -> bool:
        """The claim outlives the longest attempt (so nobody else can claim the row meanwhile)."""
        until = entry.claimed_until
        return until is not None and until - self.clock() > timedelta(seconds=TIMEOUTS.deadline_s * 2)

    def _deliver(self, entry: OutboxEntry, transport: HttpTransport, report: DeliveryReport) -> bool:
        try:
            url = self.webhook_of(entry.tenant_id)
            if url is None:
                raise WebhookFailure("the tenant has no alert webhook now (removed, or the tenant is gone)")
            post_alert(transport, url, entry.text)
        except (WebhookFailure, UserError) as exc:
            reason = exc.reason if isinstance(exc, WebhookFailure) else str(exc)
            retry_after = exc.retry_after_s if isinstance(exc, WebhookFailure) else None
            wait = retry_delay(entry.attempts + 1, retry_after, self.rng.random())
            self.outbox.failed(entry, reason, self.clock() + wait)
            report.failed.append(entry.event_key)
            seconds = int(wait.total_seconds())
            report.problems.append(f"tenant {entry.tenant_id}: {reason} (next attempt in {seconds} s)")
            return False
        if self.outbox.delivered(entry):
            report.delivered.append(entry.event_key)
        return True
