"""The process's held leases: renewed by a daemon thread, found again by a later step of the run,
re-acquired when lost to a takeover, and released with their thread stopped."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from oracle_mailchimp_dagster.store import Database, Lease, LeaseBusyError, LeaseStore
from oracle_mailchimp_dagster.store.lease_keeper import HeldLease, LeaseKeeper
from oracle_mailchimp_dagster.store.schema import tenant_leases
from tests.support.dagster_dev import poll

TTL = timedelta(seconds=1.5)  # renewed every 0.5 s
NO_WAIT = timedelta(0)


@pytest.fixture
def leases(db: Database, tenant_id: str) -> LeaseStore:
    return LeaseStore(db)


@pytest.fixture
def keeper() -> Iterator[LeaseKeeper]:
    keeper = LeaseKeeper()
    yield keeper
    keeper.release("run-A")


def expire_now(db: Database, tenant_id: str) -> None:
    """As if the holder had not renewed for a ttl."""
    with db.write() as conn:
        conn.execute(
            sa.update(tenant_leases)
            .where(tenant_leases.c.tenant_id == tenant_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_a_held_lease_is_renewed_in_the_background(
    keeper: LeaseKeeper, leases: LeaseStore, tenant_id: str
) -> None:
    held = keeper.hold(leases, tenant_id, "run-A", ttl=TTL, wait=NO_WAIT)
    first_expiry = held.lease.expires_at

    def renewed_lease() -> Lease | None:
        current = leases.current(tenant_id)
        return current if current is not None and current.expires_at > first_expiry else None

    renewed = poll(renewed_lease, timeout_s=10, what="a renewal")
    assert renewed.token == held.lease.token and renewed.holder == "run-A"
    assert not held.lost


def test_a_later_step_of_the_run_finds_its_lease_and_another_run_is_refused(
    keeper: LeaseKeeper, leases: LeaseStore, tenant_id: str
) -> None:
    first = keeper.hold(leases, tenant_id, "run-A", ttl=TTL, wait=NO_WAIT)
    again = keeper.hold(leases, tenant_id, "run-A", ttl=TTL, wait=NO_WAIT)
    assert again is first
    with pytest.raises(LeaseBusyError, match="is being synced by run run-A"):
        keeper.hold(leases, tenant_id, "run-B", ttl=TTL, wait=NO_WAIT)


def test_a_lease_lost_to_a_takeover_is_noticed_and_taken_again_only_when_free(
    keeper: LeaseKeeper, leases: LeaseStore, db: Database, tenant_id: str
) -> None:
    held = keeper.hold(leases, tenant_id, "run-A", ttl=TTL, wait=NO_WAIT)
    expire_now(db, tenant_id)
    taker = leases.try_acquire(tenant_id, "run-B", timedelta(minutes=5))
    assert taker is not None

    poll(lambda: held.lost, timeout_s=10, what="the renewal thread noticing the takeover")
    with pytest.raises(LeaseBusyError, match="is being synced by run run-B"):
        keeper.hold(leases, tenant_id, "run-A", ttl=TTL, wait=NO_WAIT)
    leases.release(taker)
    assert keeper.hold(leases, tenant_id, "run-A", ttl=TTL, wait=NO_WAIT).lease.holder == "run-A"


def test_release_deletes_the_row_and_stops_renewing(
    keeper: LeaseKeeper, leases: LeaseStore, tenant_id: str
) -> None:
    held = keeper.hold(leases, tenant_id, "run-A", ttl=TTL, wait=NO_WAIT)
    assert keeper.release("run-A") == 1
    assert leases.current(tenant_id) is None
    assert not held.renewing
    assert keeper.held("run-A", tenant_id) is None
    assert keeper.release("run-A") == 0


class ReleaseFails(LeaseStore):
    def release(self, lease: Lease) -> bool:
        raise sa.exc.OperationalError("DELETE FROM tenant_leases", {}, Exception("database is locked"))


def test_a_release_that_fails_does_not_fail_the_run_and_leaves_the_lease_to_expire(
    db: Database, leases: LeaseStore, tenant_id: str
) -> None:
    failing = ReleaseFails(db)
    lease = failing.try_acquire(tenant_id, "run-A", TTL)
    assert lease is not None
    HeldLease(failing, lease, TTL).release()
    assert leases.current(tenant_id) == lease


class RenewalFails(LeaseStore):
    def renew(self, lease: Lease, ttl: timedelta) -> Lease | None:
        raise sa.exc.OperationalError("UPDATE tenant_leases", {}, Exception("server closed the connection"))


def test_a_lease_whose_renewal_fails_in_a_later_step_is_still_released_with_its_holder(
    keeper: LeaseKeeper, db: Database, leases: LeaseStore, tenant_id: str
) -> None:
    failing = RenewalFails(db)
    held = keeper.hold(failing, tenant_id, "run-A", ttl=timedelta(minutes=5), wait=NO_WAIT)
    with pytest.raises(sa.exc.OperationalError):
        keeper.hold(failing, tenant_id, "run-A", ttl=timedelta(minutes=5), wait=NO_WAIT)  # the next step
    assert keeper.release("run-A") == 1  # the step's failure lets go of it
    assert not held.renewing and leases.current(tenant_id) is None
