"""The alert outbox on SQLite and PostgreSQL: produced once per event key, claimed by one deliverer at
a time, retried after its backoff, and delivered once."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from oracle_mailchimp_dagster.store.alert_outbox import MAX_ATTEMPTS, AlertEvent, AlertKind, AlertOutbox
from oracle_mailchimp_dagster.store.engine import Database

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=2)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def event(key: str, tenant: str = "acme", text: str = "run failed") -> AlertEvent:
    return AlertEvent(tenant, key, AlertKind.RUN_FAILED, text)


def test_producing_an_event_twice_stores_it_once(db: Database) -> None:
    outbox = AlertOutbox(db, clock=Clock())
    assert outbox.produce([event("run_failed:r1"), event("run_failed:r2")]) == [
        "run_failed:r1",
        "run_failed:r2",
    ]
    assert outbox.produce([event("run_failed:r1", text="again"), event("run_failed:r3")]) == ["run_failed:r3"]
    entries = outbox.entries()
    assert [(e.event_key, e.text, e.attempts) for e in entries] == [
        ("run_failed:r1", "run failed", 0),
        ("run_failed:r2", "run failed", 0),
        ("run_failed:r3", "run failed", 0),
    ]
    assert all(e.next_attempt_at == T0 and e.delivered_at is None and e.claimed_by is None for e in entries)


def test_a_claimed_row_is_not_claimed_again_until_its_claim_expires(db: Database) -> None:
    clock = Clock()
    outbox = AlertOutbox(db, clock=clock)
    outbox.produce([event("a"), event("b")])
    first = outbox.claim("deliverer-1", ttl=TTL, limit=1)
    assert [e.event_key for e in first] == ["a"]
    assert first[0].claimed_until == T0 + TTL
    second = outbox.claim("deliverer-2", ttl=TTL)
    assert [e.event_key for e in second] == ["b"]  # "a" is held by deliverer-1
    assert outbox.claim("deliverer-3", ttl=TTL) == []
    clock.now = T0 + TTL  # deliverer-1 died: its claim expires and "a" can be taken over
    (taken,) = outbox.claim("deliverer-3", ttl=TTL, limit=5)[:1]
    assert taken.event_key in {"a", "b"} and taken.claimed_by != first[0].claimed_by
    assert not outbox.delivered(first[0])  # the old claim can no longer settle it


def test_racing_deliverers_split_the_due_rows_without_overlap(db: Database) -> None:
    outbox = AlertOutbox(db, clock=Clock())
    keys = [f"run_failed:{i}" for i in range(40)]
    outbox.produce(event(key) for key in keys)
    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def deliverer(name: str) -> None:
        barrier.wait()
        mine: list[str] = []
        while batch := AlertOutbox(db, clock=Clock()).claim(name, ttl=TTL, limit=3):
            mine.extend(e.event_key for e in batch)
        claimed[name] = mine

    threads = [threading.Thread(target=deliverer, args=(f"d{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = [key for mine in claimed.values() for key in mine]
    assert sorted(everything) == sorted(keys)  # each row claimed exactly once
    assert len(claimed) == 4


def test_a_failed_attempt_waits_for_its_retry_time_then_is_delivered_once(db: Database) -> None:
    clock = Clock()
    outbox = AlertOutbox(db, clock=clock)
    outbox.produce([event("run_failed:r1")])
    (entry,) = outbox.claim("d", ttl=TTL)
    assert outbox.failed(entry, "hooks.example.com: HTTP 500", T0 + timedelta(seconds=30))
    stored = outbox.get("run_failed:r1")
    assert stored is not None
    assert (stored.attempts, stored.last_error, stored.claimed_by) == (1, "hooks.example.com: HTTP 500", None)
    assert outbox.claim("d", ttl=TTL) == []  # backing off
    clock.now = T0 + timedelta(seconds=30)
    (again,) = outbox.claim("d", ttl=TTL)
    assert outbox.delivered(again)
    assert not outbox.delivered(again)  # settled once
    done = outbox.get("run_failed:r1")
    assert done is not None and (done.attempts, done.delivered_at, done.last_error) == (2, clock.now, None)
    clock.now += timedelta(days=1)
    assert outbox.claim("d", ttl=TTL) == []  # delivered rows are never claimed again


def test_a_released_row_is_due_again_and_a_row_past_the_attempt_limit_rests(db: Database) -> None:
    clock = Clock()
    outbox = AlertOutbox(db, clock=clock)
    outbox.produce([event("a")])
    (entry,) = outbox.claim("d", ttl=TTL)
    assert outbox.release(entry)
    for attempt in range(MAX_ATTEMPTS):
        (entry,) = outbox.claim("d", ttl=TTL)
        assert entry.attempts == attempt
        outbox.failed(entry, "HTTP 404", clock.now)
    assert outbox.claim("d", ttl=TTL) == []
    rested = outbox.get("a")
    assert rested is not None and rested.attempts == MAX_ATTEMPTS and rested.delivered_at is None


def test_an_unclaimed_row_cannot_be_settled(db: Database) -> None:
    outbox = AlertOutbox(db, clock=Clock())
    outbox.produce([event("a")])
    entry = outbox.get("a")
    assert entry is not None
    with pytest.raises(ValueError, match="claimed"):
        outbox.delivered(entry)


def test_prune_deletes_settled_rows_only(db: Database) -> None:
    clock = Clock()
    outbox = AlertOutbox(db, clock=clock)
    outbox.produce([event("delivered"), event("resting"), event("pending")])
    (delivered,) = outbox.claim("d", ttl=TTL, limit=1)
    outbox.delivered(delivered)
    for _ in range(MAX_ATTEMPTS):
        for entry in outbox.claim("d", ttl=TTL):
            if entry.event_key == "resting":
                outbox.failed(entry, "HTTP 410", clock.now)
            else:
                outbox.release(entry)
    clock.now += timedelta(days=31)
    assert outbox.prune(clock.now - timedelta(days=30)) == 2
    assert [e.event_key for e in outbox.entries()] == ["pending"]
