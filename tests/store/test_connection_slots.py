"""Mailchimp connection slots on SQLite and PostgreSQL: distinct slots, at most `limit` held, takeover
after expiry, release and renewal by holder only, waiting with backoff, and real processes hammering
one database or dying with their slots held."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from oracle_mailchimp_dagster.store import Database
from oracle_mailchimp_dagster.store.connection_slots import (
    FIRST_POLL_S,
    MAX_POLL_S,
    ConnectionSlots,
    ConnectionSlotsBusyError,
    DatabaseConnectionGate,
    SlotClaim,
    SlotKeeper,
)
from oracle_mailchimp_dagster.store.location import normalise_url
from oracle_mailchimp_dagster.store.schema import connection_slots
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint
from tests.support.dagster_dev import poll
from tests.support.fake_time import FakeTime

TTL = timedelta(seconds=30)
KEY = "0123456789abcdef0123456789abcdef-us6"
FINGERPRINT = credential_fingerprint(KEY)
OTHER = credential_fingerprint("fedcba9876543210fedcba9876543210-us6")


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def slots(db: Database, time_: FakeTime) -> ConnectionSlots:
    return ConnectionSlots(db, clock=time_.clock)


def url_of(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def test_holders_get_distinct_slots_and_no_more_than_the_limit(slots: ConnectionSlots) -> None:
    claims = [slots.try_acquire(FINGERPRINT, 4, f"holder-{n}", TTL) for n in range(4)]
    assert all(claims)
    assert sorted(c.slot for c in claims if c) == [0, 1, 2, 3]
    assert slots.try_acquire(FINGERPRINT, 4, "holder-5", TTL) is None
    # Another key has slots of its own; the held ones are listed by slot, named by fingerprint only.
    assert slots.try_acquire(OTHER, 4, "holder-5", TTL) is not None
    assert [c.holder for c in slots.held(FINGERPRINT)] == [
        c.holder for c in sorted((c for c in claims if c), key=lambda c: c.slot)
    ]


def test_an_expired_slot_is_taken_over_and_its_old_holder_can_neither_renew_nor_release_it(
    slots: ConnectionSlots, time_: FakeTime
) -> None:
    dead = slots.try_acquire(FINGERPRINT, 1, "dead", TTL)
    assert dead is not None
    time_.advance(29)
    assert slots.try_acquire(FINGERPRINT, 1, "heir", TTL) is None  # not expired yet
    time_.advance(2)
    heir = slots.try_acquire(FINGERPRINT, 1, "heir", TTL)
    assert heir is not None and heir.slot == dead.slot == 0
    assert slots.renew([dead], TTL) == set()
    assert slots.release(dead) is False
    assert slots.held(FINGERPRINT) == [heir]


def test_release_frees_only_ones_own_slot(slots: ConnectionSlots) -> None:
    mine = slots.try_acquire(FINGERPRINT, 2, "mine", TTL)
    theirs = slots.try_acquire(FINGERPRINT, 2, "theirs", TTL)
    assert mine is not None and theirs is not None
    impostor = SlotClaim(FINGERPRINT, theirs.slot, "mine")
    assert slots.release(impostor) is False
    assert slots.release(SlotClaim(OTHER, mine.slot, "mine")) is False
    assert {c.holder for c in slots.held(FINGERPRINT)} == {"mine", "theirs"}
    assert slots.release(mine) is True
    assert slots.held(FINGERPRINT) == [theirs]
    again = slots.try_acquire(FINGERPRINT, 2, "again", TTL)
    assert again is not None and again.slot == mine.slot


def test_renewal_keeps_a_slot_alive_past_its_ttl(slots: ConnectionSlots, time_: FakeTime) -> None:
    kept = slots.try_acquire(FINGERPRINT, 1, "kept", TTL)
    assert kept is not None
    for _ in range(4):  # two minutes, renewed every 20 s
        time_.advance(20)
        assert slots.renew([kept], TTL) == {kept}
    time_.advance(29)
    assert slots.try_acquire(FINGERPRINT, 1, "other", TTL) is None
    time_.advance(2)
    assert slots.try_acquire(FINGERPRINT, 1, "other", TTL) is not None


def test_the_keeper_renews_what_it_holds_and_warns_of_a_slot_lost_before_its_renewal(
    slots: ConnectionSlots, time_: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = SlotKeeper(slots, TTL)
    stalled = slots.try_acquire(FINGERPRINT, 1, "stalled", TTL)
    live = slots.try_acquire(OTHER, 1, "live", TTL)
    released = slots.try_acquire(OTHER, 2, "released", TTL)
    assert stalled and live and released
    for claim in (stalled, live, released):
        keeper.add(claim)
    keeper.discard(released)  # as the gate releases: forgotten by the keeper, then deleted
    assert slots.release(released)
    time_.advance(31)  # the process stalled past the ttl: another takes the first slot over
    assert slots.try_acquire(FINGERPRINT, 1, "heir", TTL) is not None
    with caplog.at_level("WARNING"):
        assert keeper.renew_now() == {live}
    assert [r.getMessage() for r in caplog.records] == [
        "1 Mailchimp connection slot(s) expired before renewal"
    ]
    time_.advance(29)
    assert slots.try_acquire(OTHER, 1, "other", TTL) is None  # the renewal kept the live one
    for claim in (stalled, live):
        keeper.discard(claim)
    assert keeper.held() == set()


def test_waiting_polls_with_growing_jittered_pauses_then_fails_naming_the_fingerprint(
    db: Database, time_: FakeTime
) -> None:
    gate = DatabaseConnectionGate(
        db,
        1,
        wait=timedelta(seconds=5),
        clock=time_.clock,
        sleep=time_.sleep,
        monotonic=time_.monotonic,
    )
    with gate.slot(FINGERPRINT), pytest.raises(ConnectionSlotsBusyError) as raised:
        gate.acquire(FINGERPRINT)
    message = str(raised.value)
    assert FINGERPRINT in message and KEY not in message and KEY[:8] not in message
    assert message.startswith("all 1 Mailchimp connections of API key ")
    assert "for 5 s" in message
    assert sum(time_.sleeps) == pytest.approx(5.0)
    assert FIRST_POLL_S / 2 <= time_.sleeps[0] <= FIRST_POLL_S
    assert max(time_.sleeps) <= MAX_POLL_S
    assert len(set(time_.sleeps)) > len(time_.sleeps) // 2  # jittered, not a fixed ladder
    # The slot was released when its block ended: the gate's slots are free again.
    assert gate.slots.held(FINGERPRINT) == [] and gate.keeper.held() == set()


def test_a_waiter_gets_the_slot_once_its_holder_releases_it(db: Database) -> None:
    gate = DatabaseConnectionGate(db, 1)
    first = gate.acquire(FINGERPRINT)
    got: list[SlotClaim] = []
    waiter = threading.Thread(target=lambda: got.append(gate.acquire(FINGERPRINT)))
    waiter.start()
    poll(lambda: gate.slots.held(FINGERPRINT) == [first] and waiter.is_alive(), 10, "the waiter polling")
    gate.release(first)
    waiter.join(timeout=10)
    assert len(got) == 1 and got[0].slot == 0 and got[0].holder != first.holder
    gate.release(got[0])


def test_the_keeper_renews_held_slots_in_real_time_so_they_outlive_their_ttl(db: Database) -> None:
    ttl = timedelta(seconds=1.5)
    gate = DatabaseConnectionGate(db, 1, ttl=ttl)
    other = ConnectionSlots(db)
    claim = gate.acquire(FINGERPRINT)
    first_expiry = datetime.now(UTC) + ttl
    # Wait until the first expiry has passed on the clock, then it must still be held (renewed).
    poll(lambda: datetime.now(UTC) > first_expiry + ttl / 2, 10, "the first ttl passing", interval_s=0.05)
    assert gate.keeper.renewals >= 1
    assert other.try_acquire(FINGERPRINT, 1, "other", ttl) is None
    gate.release(claim)
    assert other.try_acquire(FINGERPRINT, 1, "other", ttl) is not None


# ---- real processes -----------------------------------------------------------------------------

PROCESSES = 3
THREADS = 8
ROUNDS = 4
LIMIT = 10


def hammer(url: str, limit: int, threads: int, rounds: int, out: str, barrier: Any) -> None:
    """One process: `threads` threads each take and give back a slot `rounds` times, recording each
    hold as (slot, start, end) on the monotonic clock (system-wide on Linux)."""
    db = Database.from_url(normalise_url(url))
    gate = DatabaseConnectionGate(db, limit)
    holds: list[tuple[int, int, int]] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(rounds):
            with gate.slot(FINGERPRINT) as claim:
                start = time.monotonic_ns()
                time.sleep(0.2)  # a request on the wire (a real one takes 0.1 s and up)
                end = time.monotonic_ns()
            with lock:
                holds.append((claim.slot, start, end))

    barrier.wait(timeout=60)
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    db.dispose()
    Path(out).write_text(json.dumps(holds))


def most_at_once(holds: list[tuple[int, int, int]]) -> int:
    events = sorted([(start, 1) for _, start, _ in holds] + [(end, -1) for _, _, end in holds])
    inside = worst = 0
    for _, change in events:  # an end sorts before a start at the same instant
        inside += change
        worst = max(worst, inside)
    return worst


def test_processes_hammering_one_database_never_hold_more_than_the_limit_or_one_slot_twice(
    db: Database, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    outs = [tmp_path / f"hammer-{n}.json" for n in range(PROCESSES)]
    processes = [
        context.Process(target=hammer, args=(url_of(db), LIMIT, THREADS, ROUNDS, str(out), barrier))
        for out in outs
    ]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join(timeout=120)
            assert process.exitcode == 0, f"hammer exited with {process.exitcode}"
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()
    holds: list[tuple[int, int, int]] = [
        (slot, start, end) for out in outs for slot, start, end in json.loads(out.read_text())
    ]
    assert len(holds) == PROCESSES * THREADS * ROUNDS
    # 24 threads wanted slots at once: the limit was (about) reached, and never passed.
    assert LIMIT - 2 <= most_at_once(holds) <= LIMIT
    for slot in range(LIMIT):  # no slot was ever held by two at once
        mine = [h for h in holds if h[0] == slot]
        assert most_at_once(mine) <= 1, slot
    assert {h[0] for h in holds} == set(range(LIMIT))
    assert ConnectionSlots(db).held(FINGERPRINT) == []


HOLDER_SCRIPT = """
import sys, time
from datetime import timedelta
from oracle_mailchimp_dagster.store.connection_slots import DatabaseConnectionGate
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.location import normalise_url

url, fingerprint, limit, ttl = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
gate = DatabaseConnectionGate(Database.from_url(normalise_url(url)), limit, ttl=timedelta(seconds=ttl))
claims = [gate.acquire(fingerprint) for _ in range(limit)]
print("holding", flush=True)
sys.stdin.read()  # until killed
"""


def test_the_slots_of_a_killed_holder_come_back_after_the_ttl(db: Database) -> None:
    limit, ttl = 3, 1.5
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, url_of(db), FINGERPRINT, str(limit), str(ttl)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"holding"
        slots = ConnectionSlots(db)
        held = slots.held(FINGERPRINT)
        assert len(held) == limit and len({c.holder for c in held}) == limit
        first_expiry = _expiries(db)
        # Alive, the holder's keeper renews its slots before they expire...
        poll(lambda: min(_expiries(db)) > max(first_expiry), 10, "the holder renewing", interval_s=0.05)
        assert slots.try_acquire(FINGERPRINT, limit, "heir", timedelta(seconds=30)) is None
        os.killpg(holder.pid, signal.SIGKILL)  # no release, no more renewals
        holder.wait(timeout=30)
        killed_at = time.monotonic()
        assert len(slots.held(FINGERPRINT)) == limit  # still held right after the kill
        # ... dead, they free themselves within the ttl.
        long = timedelta(seconds=30)
        first = poll(lambda: slots.try_acquire(FINGERPRINT, limit, "heir-0", long), 10, "a slot coming back")
        assert time.monotonic() - killed_at <= ttl + 3.0  # the ttl, not the default 30 s
        rest = [slots.try_acquire(FINGERPRINT, limit, f"heir-{n}", long) for n in range(1, limit)]
        assert {c.slot for c in [first, *rest] if c} == set(range(limit))
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait(timeout=30)


def _expiries(db: Database) -> list[datetime]:
    with db.read() as conn:
        return list(conn.execute(sa.select(connection_slots.c.expires_at)).scalars())
