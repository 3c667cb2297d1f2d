"""commit_run is all or nothing: the mark never moves without the ledger rows it depends on."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

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
from oracle_mailchimp_dagster.store.schema import member_state, retry_queue, sync_ledger
from oracle_mailchimp_dagster.store.sql import WRITE_CHUNK
from oracle_mailchimp_dagster.sync.model import MemberState

T0 = datetime(2025, 1, 5, 17, 2, 41, 507000, tzinfo=UTC)
MARK_0 = HighWaterMark(T0, 100)
MARK_1 = HighWaterMark(T0 + timedelta(minutes=15), 200)


def counts(db: Database) -> tuple[int, int, int]:
    with db.read() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (sync_ledger, member_state, retry_queue)
        )


def full_commit(run_id: str, *, rows: int = 50, mark: HighWaterMark | None = MARK_1) -> RunCommit:
    return RunCommit(
        run_id=run_id,
        finished_at=T0,
        ledger=[LedgerRecord(f"CDRM_{i}", f"c{i}@acme.io", "upsert", "succeeded", 200) for i in range(rows)],
        member_upserts=[
            MemberState(f"CDRM_{i}", f"c{i}@acme.io", f"{i:032x}", "p", "subscribed", last_synced_at=T0)
            for i in range(rows)
        ],
        retry_upserts=[RetryEntry("CDRM_X", 1, T0, "HTTP 503", False, T0)],
        new_mark=mark,
    )


@pytest.fixture
def store(db: Database, tenant_id: str) -> SyncStore:
    store = SyncStore(db)
    store.marks.reset(tenant_id, MARK_0)
    return store


def test_a_commit_writes_everything_and_moves_the_mark(
    store: SyncStore, db: Database, tenant_id: str
) -> None:
    summary = store.commit_run(tenant_id, full_commit("run-1"))
    assert (summary.ledger_rows, summary.members_upserted, summary.retries_upserted) == (50, 50, 1)
    assert (summary.mark_before, summary.mark_after) == (MARK_0, MARK_1)
    assert summary.counts_by_outcome == {"succeeded": 50}
    assert counts(db) == (50, 50, 1)
    state = store.marks.state(tenant_id)
    assert state is not None and (state.mark, state.last_run_id, state.last_run_at) == (MARK_1, "run-1", T0)


def test_a_failing_row_mid_transaction_leaves_nothing_and_the_mark_unchanged(
    store: SyncStore, db: Database, tenant_id: str
) -> None:
    """A retry entry violating a constraint fails after the ledger rows were inserted: all roll back."""
    commit = full_commit("run-1")
    bad = RunCommit(
        commit.run_id,
        commit.finished_at,
        ledger=commit.ledger,
        member_upserts=commit.member_upserts,
        retry_upserts=[RetryEntry("CDRM_X", 0, T0, "attempts must be >= 1", False, T0)],
        new_mark=MARK_1,
    )
    with pytest.raises(sa.exc.IntegrityError):
        store.commit_run(tenant_id, bad)
    assert counts(db) == (0, 0, 0)
    assert store.marks.get(tenant_id) == MARK_0


@pytest.fixture
def fail_on_mark_update(db: Database) -> Iterator[None]:
    """Make the database reject the very last statement of a commit: the UPDATE of sync_state's mark."""

    def refuse(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if statement.lstrip().upper().startswith("UPDATE SYNC_STATE"):
            raise RuntimeError("injected failure while moving the mark")

    sa.event.listen(db.engine, "before_cursor_execute", refuse)
    yield
    sa.event.remove(db.engine, "before_cursor_execute", refuse)


def test_a_failure_at_the_last_statement_rolls_back_every_row(
    store: SyncStore, db: Database, tenant_id: str, fail_on_mark_update: None
) -> None:
    # Large enough to span several bulk chunks, so every write path has run before the failure.
    with pytest.raises(RuntimeError, match="injected failure"):
        store.commit_run(tenant_id, full_commit("run-1", rows=WRITE_CHUNK + 7))
    assert counts(db) == (0, 0, 0)


def test_after_a_failed_commit_the_old_mark_is_still_there(
    store: SyncStore, db: Database, tenant_id: str
) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        store.commit_run(
            tenant_id, RunCommit("run-1", T0, ledger=[LedgerRecord("C", None, "upsert", "ok", attempt=0)])
        )
    assert store.marks.get(tenant_id) == MARK_0
    store.commit_run(tenant_id, full_commit("run-2"))
    assert store.marks.get(tenant_id) == MARK_1


def test_the_mark_never_moves_backwards(store: SyncStore, tenant_id: str) -> None:
    store.commit_run(tenant_id, full_commit("run-1", mark=MARK_1))
    summary = store.commit_run(tenant_id, full_commit("run-2", mark=MARK_0))
    assert summary.mark_after == MARK_1
    assert store.marks.get(tenant_id) == MARK_1


def test_ties_on_the_timestamp_are_broken_by_party_id(store: SyncStore, tenant_id: str) -> None:
    store.commit_run(tenant_id, full_commit("run-1", mark=HighWaterMark(MARK_0.timestamp, MARK_0.key + 1)))
    assert store.marks.get(tenant_id) == HighWaterMark(MARK_0.timestamp, MARK_0.key + 1)


def test_a_replay_without_a_mark_keeps_it_and_records_the_run(store: SyncStore, tenant_id: str) -> None:
    summary = store.commit_run(tenant_id, full_commit("replay-1", mark=None))
    assert summary.mark_after == MARK_0
    state = store.marks.state(tenant_id)
    assert state is not None and (state.mark, state.last_run_id) == (MARK_0, "replay-1")


def test_a_first_commit_creates_the_state(db: Database, tenant_id: str) -> None:
    store = SyncStore(db)
    summary = store.commit_run(tenant_id, full_commit("run-1", rows=1))
    assert (summary.mark_before, summary.mark_after) == (None, MARK_1)


def test_an_unknown_tenant_is_refused_before_anything_is_written(db: Database) -> None:
    with pytest.raises(TenantNotFoundError, match="no tenant 'nobody'"):
        SyncStore(db).commit_run("nobody", full_commit("run-1"))
    assert counts(db) == (0, 0, 0)


def test_duplicate_keys_in_one_commit_keep_the_last_state(store: SyncStore, tenant_id: str) -> None:
    first = MemberState("CDRM_1", "old@acme.io", "a" * 32, "p1", "subscribed", last_synced_at=T0)
    last = MemberState(
        "CDRM_1", "new@acme.io", "b" * 32, "p2", "subscribed", frozenset({"type:customer"}), last_synced_at=T0
    )
    summary = store.commit_run(tenant_id, RunCommit("run-1", T0, member_upserts=[first, last]))
    assert summary.members_upserted == 1
    assert store.members.by_keys(tenant_id, ["CDRM_1"]) == {"CDRM_1": last}


def test_concurrent_commits_of_different_tenants_all_land(db: Database) -> None:
    """SQLite writers queue (BEGIN IMMEDIATE) instead of failing with 'database is locked'."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.fixtures.store import add_tenant_row

    tenants = [add_tenant_row(db, f"tenant-{i}") for i in range(4)]
    store = SyncStore(db)
    with ThreadPoolExecutor(max_workers=4) as pool:
        summaries = list(
            pool.map(lambda t: store.commit_run(t, full_commit(f"run-{t}", rows=2_000)), tenants)
        )
    assert [s.ledger_rows for s in summaries] == [2_000] * 4
    assert counts(db) == (8_000, 8_000, 4)
    assert all(store.marks.get(t) == MARK_1 for t in tenants)
