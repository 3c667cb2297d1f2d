"""Delivering the outbox to a real HTTP webhook on 127.0.0.1: a 500 is retried after its backoff and the
alert then arrives once; redirects are refused; one tenant's broken webhook does not hold the others."""

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from oracle_mailchimp_dagster.pipeline.alert_delivery import (
    FIRST_RETRY,
    MAX_RETRY,
    AlertDeliverer,
    retry_delay,
)
from oracle_mailchimp_dagster.store.alert_outbox import AlertEvent, AlertKind, AlertOutbox
from oracle_mailchimp_dagster.store.engine import Database
from tests.alerts.webhook_receiver import WEBHOOK_TOKEN, WebhookReceiver

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def deliverer(
    outbox: AlertOutbox, urls: dict[str, str], clock: Clock, holder: str = "test"
) -> AlertDeliverer:
    def webhook_of(tenant_id: str) -> SecretStr | None:
        url = urls.get(tenant_id)
        return SecretStr(url) if url else None

    return AlertDeliverer(outbox, webhook_of, holder=holder, clock=clock, rng=random.Random(7))


def test_retry_delay_doubles_from_30_seconds_up_to_an_hour_and_honours_retry_after() -> None:
    assert retry_delay(1, draw=1.0) == FIRST_RETRY
    assert retry_delay(1, draw=0.0) == FIRST_RETRY / 2
    assert retry_delay(3, draw=1.0) == FIRST_RETRY * 4
    assert retry_delay(30, draw=1.0) == MAX_RETRY
    assert retry_delay(1, retry_after_s=7) == timedelta(seconds=7)
    assert retry_delay(1, retry_after_s=10**9) == MAX_RETRY


def test_a_500_is_retried_after_the_backoff_and_the_alert_arrives_once(
    db: Database, webhook: WebhookReceiver
) -> None:
    clock = Clock()
    outbox = AlertOutbox(db, clock=clock)
    outbox.produce(
        [AlertEvent("acme", "run_failed:r1", AlertKind.RUN_FAILED, "[oracle-mailchimp] <run> failed & why")]
    )
    webhook.answer(500, b"internal_error")
    send = deliverer(outbox, {"acme": webhook.url}, clock)

    first = send.deliver_due()
    assert (first.delivered, first.failed) == ([], ["run_failed:r1"])
    assert first.problems[0].startswith("tenant acme: 127.0.0.1:")
    assert "HTTP 500 (internal_error)" in first.problems[0] and WEBHOOK_TOKEN not in first.problems[0]
    stored = outbox.get("run_failed:r1")
    assert stored is not None and stored.attempts == 1 and stored.next_attempt_at > T0
    assert WEBHOOK_TOKEN not in (stored.last_error or "")
    assert send.deliver_due().failed == []  # not yet due
    assert len(webhook.posts()) == 1

    clock.now = stored.next_attempt_at
    second = send.deliver_due()
    assert second.delivered == ["run_failed:r1"]
    clock.now += timedelta(hours=2)
    assert send.deliver_due().delivered == []
    posts = webhook.posts()
    assert len(posts) == 2  # the failed attempt and the delivery, nothing more
    assert all(p.path == f"/services/{WEBHOOK_TOKEN}" for p in posts)
    assert posts[1].headers["Content-Type"] == "application/json"
    assert posts[1].json() == {"text": "[oracle-mailchimp] &lt;run&gt; failed &amp; why"}
    done = outbox.get("run_failed:r1")
    assert done is not None and done.delivered_at == stored.next_attempt_at and done.attempts == 2


def test_a_redirect_is_not_followed_and_retry_after_is_honoured(
    db: Database, webhook: WebhookReceiver
) -> None:
    clock = Clock()
    outbox = AlertOutbox(db, clock=clock)
    outbox.produce(
        [AlertEvent("acme", "k1", AlertKind.STALE, "stale"), AlertEvent("acme", "k2", AlertKind.STALE, "x")]
    )
    webhook.answer(302, location=f"http://127.0.0.2:{webhook.port}/elsewhere?token=abc")
    send = deliverer(outbox, {"acme": webhook.url}, clock)
    report = send.deliver_due()
    assert report.failed == ["k1"] and report.postponed == ["k2"]  # the tenant's other row waits
    assert "redirected to 127.0.0.2" in report.problems[0] and "token=abc" not in report.problems[0]
    assert [p.path for p in webhook.posts()] == [f"/services/{WEBHOOK_TOKEN}"]  # nothing followed

    webhook.answer(429, retry_after="120")
    clock.now += timedelta(minutes=5)
    again = send.deliver_due()
    assert (again.failed, again.postponed) == (["k2"], ["k1"])  # k2 was due first (released untried)
    k2 = outbox.get("k2")
    assert k2 is not None and "HTTP 429" in (k2.last_error or "")
    assert k2.next_attempt_at == clock.now + timedelta(seconds=120)


def test_one_tenant_s_broken_webhook_does_not_hold_the_others(db: Database, webhook: WebhookReceiver) -> None:
    clock = Clock()
    outbox = AlertOutbox(db, clock=clock)
    outbox.produce(
        [
            AlertEvent("broken", "b1", AlertKind.RUN_FAILED, "b1"),
            AlertEvent("broken", "b2", AlertKind.RUN_FAILED, "b2"),
            AlertEvent("gone", "g1", AlertKind.RUN_FAILED, "g1"),
            AlertEvent("acme", "a1", AlertKind.RUN_FAILED, "a1"),
        ]
    )
    closed_port = f"http://127.0.0.1:{_closed_port()}/hook/secret-path"
    send = deliverer(outbox, {"broken": closed_port, "acme": webhook.url}, clock)
    report = send.deliver_due()
    assert report.delivered == ["a1"]
    assert sorted(report.failed) == ["b1", "g1"] and report.postponed == ["b2"]
    problems = " ".join(report.problems)
    assert "ConnectionError" in problems and "no alert webhook" in problems and "secret-path" not in problems
    assert [p.json()["text"] for p in webhook.posts()] == ["a1"]


def test_two_deliverers_at_once_post_each_alert_once(db: Database, webhook: WebhookReceiver) -> None:
    clock = Clock()
    keys = [f"run_failed:{i}" for i in range(12)]
    AlertOutbox(db, clock=clock).produce(AlertEvent("acme", key, AlertKind.RUN_FAILED, key) for key in keys)
    barrier = threading.Barrier(2)

    def run(name: str) -> None:
        barrier.wait()
        send = deliverer(AlertOutbox(db, clock=clock), {"acme": webhook.url}, clock, holder=name)
        while send.deliver_due(limit=2).delivered:
            pass

    threads = [threading.Thread(target=run, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(p.json()["text"] for p in webhook.posts()) == sorted(keys)
    assert all(e.delivered_at is not None for e in AlertOutbox(db).entries())


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
