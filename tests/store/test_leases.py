"""Tenant leases on SQLite and PostgreSQL: one holder at a time, takeover only after expiry, waiting
with backoff, and atomic acquisition between two real processes."""

from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from oracle_mailchimp_dagster.store import Database, Lease, LeaseBusyError, LeaseStore, TenantNotFoundError
from oracle_mailchimp_dagster.store import tenant_rows as rows
from tests.support.fake_time import T0, FakeTime
from tests.support.lease_race import counter_value, race

TTL = timedelta(seconds=60)


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def leases(db: Database, tenant_id: str, time_: FakeTime) -> LeaseStore:
    return LeaseStore(db, clock=time_.clock, sleep=time_.sleep, monotonic=time_.monotonic)


def test_a_free_lease_is_taken_and_a_second_holder_is_refused_until_it_is_released(
    leases: LeaseStore, tenant_id: str
) -> None:
    first = leases.try_acquire(tenant_id, "run-A", TTL)
    assert first is not None
    assert (first.holder, first.acquired_at, first.expires_at) == ("run-A", T0, T0 + TTL)
    assert leases.try_acquire(tenant_id, "run-B", TTL) is None
    assert leases.current(tenant_id) == first

    assert leases.release(first)
    assert leases.current(tenant_id) is None
    second = leases.try_acquire(tenant_id, "run-B", TTL)
    assert second is not None and second.holder == "run-B" and second.token != first.token


def test_an_expired_lease_is_taken_over_and_its_old_holder_can_neither_renew_nor_release_it(
    leases: LeaseStore, tenant_id: str, time_: FakeTime
) -> None:
    dead = leases.try_acquire(tenant_id, "run-A", TTL)
    assert dead is not None
    time_.now = T0 + TTL - timedelta(milliseconds=1)
    assert leases.try_acquire(tenant_id, "run-B", TTL) is None  # not yet expired
    time_.now = T0 + TTL
    taker = leases.try_acquire(tenant_id, "run-B", TTL)
    assert taker is not None and taker.holder == "run-B"

    assert leases.renew(dead, TTL) is None
    assert not leases.release(dead)
    assert leases.current(tenant_id) == taker


def test_renewal_moves_the_expiry_so_the_lease_is_not_taken_over(
    leases: LeaseStore, tenant_id: str, time_: FakeTime
) -> None:
    lease = leases.try_acquire(tenant_id, "run-A", TTL)
    assert lease is not None
    time_.now = T0 + TTL / 2
    renewed = leases.renew(lease, TTL)
    assert renewed is not None and renewed.expires_at == T0 + TTL / 2 + TTL
    time_.now = T0 + TTL  # the first expiry has passed, the renewed one has not
    assert leases.try_acquire(tenant_id, "run-B", TTL) is None
    assert leases.current(tenant_id) == renewed


def test_the_holder_itself_takes_its_live_lease_again(leases: LeaseStore, tenant_id: str) -> None:
    """A later step of the same run (say, in another process) is the same writer."""
    first = leases.try_acquire(tenant_id, "run-A", TTL)
    again = leases.try_acquire(tenant_id, "run-A", TTL)
    assert first is not None and again is not None and again.token != first.token
    assert leases.renew(first, TTL) is None  # the newer token is the lease now


def test_waiting_polls_with_backoff_and_fails_naming_the_holder(
    leases: LeaseStore, tenant_id: str, time_: FakeTime
) -> None:
    held = leases.try_acquire(tenant_id, "run-A", timedelta(hours=1))
    assert held is not None
    heard: list[Lease] = []
    with pytest.raises(LeaseBusyError) as caught:
        leases.acquire(tenant_id, "run-B", TTL, timedelta(seconds=10), on_wait=heard.append)
    assert str(caught.value) == (
        "tenant 'acme' is being synced by run run-A (lease until 2026-03-01T10:00:00+00:00); "
        "waited 10 s for it, try again when that run has finished"
    )
    assert heard == [held]  # told once, when waiting started
    assert time_.sleeps[:4] == pytest.approx([0.1, 0.15, 0.225, 0.3375])
    assert max(time_.sleeps) == 2.0 and sum(time_.sleeps) == pytest.approx(10.0)


def test_no_wait_fails_at_once(leases: LeaseStore, tenant_id: str, time_: FakeTime) -> None:
    assert leases.try_acquire(tenant_id, "run-A", TTL) is not None
    with pytest.raises(LeaseBusyError) as caught:
        leases.acquire(tenant_id, "run-B", TTL, timedelta(0))
    assert str(caught.value) == (
        "tenant 'acme' is being synced by run run-A (lease until 2026-03-01T09:01:00+00:00)"
    )
    assert time_.sleeps == []


def test_a_waiting_run_gets_the_lease_when_the_holder_releases_it(
    db: Database, tenant_id: str, time_: FakeTime
) -> None:
    plain = LeaseStore(db, clock=time_.clock)
    holding = plain.try_acquire(tenant_id, "run-A", timedelta(hours=1))
    assert holding is not None

    def sleep_then_release_on_third(seconds: float) -> None:
        time_.sleep(seconds)
        if len(time_.sleeps) == 3:
            plain.release(holding)

    waiting = LeaseStore(db, clock=time_.clock, sleep=sleep_then_release_on_third, monotonic=time_.monotonic)
    lease = waiting.acquire(tenant_id, "run-B", TTL, timedelta(minutes=10))
    assert lease.holder == "run-B" and len(time_.sleeps) == 3


def test_a_waiting_run_takes_over_a_lease_whose_holder_died(
    leases: LeaseStore, tenant_id: str, time_: FakeTime
) -> None:
    assert leases.try_acquire(tenant_id, "run-A", timedelta(seconds=5)) is not None  # never renewed
    lease = leases.acquire(tenant_id, "run-B", TTL, timedelta(minutes=10))
    assert lease.holder == "run-B"
    assert 5.0 <= time_.elapsed < 7.0  # polled until just past the expiry


def test_an_unknown_tenant_has_no_lease(leases: LeaseStore) -> None:
    with pytest.raises(TenantNotFoundError):
        leases.try_acquire("nobody", "run-A", TTL)


def test_removing_a_tenant_removes_its_lease(leases: LeaseStore, db: Database, tenant_id: str) -> None:
    assert leases.try_acquire(tenant_id, "run-A", TTL) is not None
    with db.write() as conn:
        rows.delete_tenant(conn, tenant_id)
    assert leases.current(tenant_id) is None


def test_two_processes_racing_never_hold_the_lease_at_once(
    db: Database, tenant_id: str, tmp_path: Path
) -> None:
    holds = 40
    results = race(db.url.render_as_string(hide_password=False), tenant_id, tmp_path, holds=holds)

    assert counter_value(tmp_path) == 2 * holds  # no increment lost to a second holder
    intervals = sorted(i for r in results for i in r.intervals)
    assert len(intervals) == 2 * holds
    for (_, end), (start, _) in pairwise(intervals):
        assert start >= end, "two processes held the lease at the same time"
    assert sum(r.refusals for r in results) > 0  # they did contend
