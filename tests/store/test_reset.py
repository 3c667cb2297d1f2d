"""A reset forgets one tenant's member state, retry queue and mark in the caller's transaction, and the
ledger keeps its history plus one row recording the reset (SQLite and PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from oracle_mailchimp_dagster.store import (
    Database,
    HighWaterMark,
    LedgerRecord,
    RetryEntry,
    RunCommit,
    SyncStore,
    TenantNotFoundError,
)
from oracle_mailchimp_dagster.store.reset import has_sync_state, reset_run_id, reset_sync_state
from oracle_mailchimp_dagster.store.schema import member_state, retry_queue, sync_ledger
from oracle_mailchimp_dagster.sync.model import MemberState
from tests.fixtures.store import add_tenant_row

T0 = datetime(2025, 1, 5, 17, 2, 41, 507000, tzinfo=UTC)
MARK = HighWaterMark(T0 + timedelta(minutes=15), 200)
EARLIER_MARK = HighWaterMark(T0, 100)
NOW = datetime(2025, 2, 1, 9, 30, tzinfo=UTC)


def synced(store: SyncStore, tenant_id: str, members: int = 3, run_id: str = "run-1") -> None:
    """Commit a run leaving `members` members, one queued retry and MARK."""
    store.commit_run(
        tenant_id,
        RunCommit(
            run_id=run_id,
            finished_at=T0,
            ledger=[LedgerRecord(f"K{i}", f"c{i}@acme.io", "upsert", "created", 200) for i in range(members)],
            member_upserts=[
                MemberState(f"K{i}", f"c{i}@acme.io", f"{i:032x}", "p", "transactional", last_synced_at=T0)
                for i in range(members)
            ],
            retry_upserts=[RetryEntry("KX", 1, T0, "HTTP 503", False, T0)],
            new_mark=MARK,
        ),
    )


def rows_of(db: Database, table: sa.Table, tenant_id: str) -> int:
    with db.read() as conn:
        query = sa.select(sa.func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
        return int(conn.execute(query).scalar_one())


def test_a_reset_forgets_state_and_records_why_in_the_ledger(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    synced(store, tenant_id)
    with db.write() as conn:
        reset = reset_sync_state(conn, tenant_id, "settings changed: the Mailchimp list id (a -> b)", NOW)

    assert (reset.members_deleted, reset.retries_deleted, reset.mark_cleared) == (3, 1, True)
    assert reset.run_id == "reset-20250201T093000000000Z" == reset_run_id(NOW)
    assert rows_of(db, member_state, tenant_id) == 0 and rows_of(db, retry_queue, tenant_id) == 0
    state = store.marks.state(tenant_id)
    assert state is not None and state.mark is None
    assert state.last_run_id == "run-1"  # the last run is history, not state

    assert len(store.ledger.for_run(tenant_id, "run-1")) == 3  # the ledger keeps its history
    [row] = store.ledger.for_run(tenant_id, reset.run_id)
    assert (row.customer_key, row.email, row.action, row.outcome) == ("*", None, "reset", "reset")
    assert row.recorded_at == NOW and row.title == "sync state reset"
    assert row.detail == (
        "settings changed: the Mailchimp list id (a -> b); deleted 3 member state row(s) and "
        "1 retry queue row(s); mark 2025-01-05T17:17:41.507000+00:00 (PartyId 200) cleared"
    )
    assert [e.run_id for e in store.ledger.for_customer(tenant_id, "*")] == [reset.run_id]


def test_a_reset_touches_no_other_tenant(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    other = add_tenant_row(db, "globex")
    synced(store, tenant_id)
    synced(store, other, members=5)
    with db.write() as conn:
        reset_sync_state(conn, tenant_id, "reset on request", NOW)
    assert (rows_of(db, member_state, other), rows_of(db, retry_queue, other)) == (5, 1)
    assert store.marks.get(other) == MARK
    assert store.ledger.outcome_counts(other, "run-1") == {"created": 5}
    with db.read() as conn:
        assert has_sync_state(conn, other) and not has_sync_state(conn, tenant_id)


def test_a_reset_rolls_back_with_its_transaction(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    synced(store, tenant_id)
    with pytest.raises(RuntimeError, match="the caller failed later"), db.write() as conn:
        reset_sync_state(conn, tenant_id, "reset on request", NOW)
        raise RuntimeError("the caller failed later")
    assert (rows_of(db, member_state, tenant_id), rows_of(db, retry_queue, tenant_id)) == (3, 1)
    assert store.marks.get(tenant_id) == MARK
    assert rows_of(db, sync_ledger, tenant_id) == 3


def test_after_a_reset_the_next_commit_sets_the_mark_from_nothing(db: Database, tenant_id: str) -> None:
    """A run commit only moves the mark forward; a reset is the deliberate way back to none."""
    store = SyncStore(db)
    synced(store, tenant_id)
    with db.write() as conn:
        reset_sync_state(conn, tenant_id, "reset on request", NOW)
    summary = store.commit_run(tenant_id, RunCommit("run-2", T0, new_mark=EARLIER_MARK))
    assert (summary.mark_before, summary.mark_after) == (None, EARLIER_MARK)


def test_a_reset_of_a_tenant_without_state_records_it_and_says_nothing_was_there(
    db: Database, tenant_id: str
) -> None:
    with db.read() as conn:
        assert not has_sync_state(conn, tenant_id)
    with db.write() as conn:
        reset = reset_sync_state(conn, tenant_id, "reset on request", NOW)
    assert (reset.members_deleted, reset.retries_deleted, reset.mark_cleared) == (0, 0, False)
    [row] = SyncStore(db).ledger.for_run(tenant_id, reset.run_id)
    assert row.detail is not None and row.detail.endswith("; no mark was set")


@pytest.mark.parametrize("held", ["mark", "member", "retry"])
def test_any_one_piece_of_state_counts_as_state(db: Database, tenant_id: str, held: str) -> None:
    store = SyncStore(db)
    if held == "mark":
        store.marks.reset(tenant_id, MARK)
    else:
        commit = RunCommit(
            "run-1",
            T0,
            member_upserts=[MemberState("K1", "c1@acme.io", "0" * 32, "p", None, last_synced_at=T0)]
            if held == "member"
            else (),
            retry_upserts=[RetryEntry("K1", 1, T0, None, False, T0)] if held == "retry" else (),
        )
        store.commit_run(tenant_id, commit)
        assert store.marks.get(tenant_id) is None
    with db.read() as conn:
        assert has_sync_state(conn, tenant_id)


def test_an_unknown_tenant_is_named_and_nothing_is_written(db: Database) -> None:
    with pytest.raises(TenantNotFoundError, match="no tenant 'nobody'"), db.write() as conn:
        reset_sync_state(conn, "nobody", "reset on request", NOW)
    assert rows_of(db, sync_ledger, "nobody") == 0


def test_a_reset_moves_the_state_version_on(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    store.commit_run(tenant_id, RunCommit("run-1", T0, new_mark=HighWaterMark(T0, 1)))
    before = store.marks.state(tenant_id)
    assert before is not None
    with db.write() as conn:
        reset = reset_sync_state(conn, tenant_id, "test", T0)
    after = store.marks.state(tenant_id)
    assert after is not None and after.state_version == before.state_version + 1
    assert after.versioned_by == reset.run_id and after.mark is None
