"""Compare-and-set at commit: the state version moves with every change of member state or mark, a
commit planned against an older version (or mark) is refused whole, and member state never goes back
to an older Oracle record. On SQLite and PostgreSQL."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from oracle_mailchimp_dagster.store import (
    Database,
    HighWaterMark,
    LedgerRecord,
    RunCommit,
    StaleStateError,
    SyncStore,
)
from oracle_mailchimp_dagster.store.marks import bump_state_version
from oracle_mailchimp_dagster.store.schema import sync_ledger
from oracle_mailchimp_dagster.sync.model import MemberState

T0 = datetime(2025, 1, 5, 17, 2, 41, 507000, tzinfo=UTC)
MARK_0 = HighWaterMark(T0, 100)
MARK_1 = HighWaterMark(T0 + timedelta(minutes=15), 200)
MARK_2 = HighWaterMark(T0 + timedelta(minutes=30), 300)


def member(name: str, updated: datetime | None) -> MemberState:
    return MemberState(
        "CDRM_1",
        f"{name}@acme.io",
        "a" * 32,
        f"hash-{name}",
        "subscribed",
        last_update=updated,
        last_synced_at=T0,
    )


def commit(
    run_id: str,
    *,
    planned: int | None,
    planned_mark: HighWaterMark | None = None,
    new_mark: HighWaterMark | None = None,
    members: tuple[MemberState, ...] = (),
) -> RunCommit:
    return RunCommit(
        run_id=run_id,
        finished_at=T0,
        ledger=[LedgerRecord("CDRM_1", "a@acme.io", "upsert", "updated", 200)],
        member_upserts=members,
        new_mark=new_mark,
        planned_version=planned,
        planned_mark=planned_mark,
    )


def ledger_rows(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(sync_ledger)).scalar_one())


@pytest.fixture
def store(db: Database, tenant_id: str) -> SyncStore:
    return SyncStore(db)


def test_the_version_counts_commits_that_change_members_or_the_mark(store: SyncStore, tenant_id: str) -> None:
    assert store.marks.version(tenant_id) == 0
    first = store.commit_run(tenant_id, commit("run-1", planned=0, new_mark=MARK_1))
    assert first.state_version == 1
    ledger_only = store.commit_run(tenant_id, commit("run-2", planned=1))
    assert ledger_only.state_version == 1  # nothing a plan reads has changed
    same_mark = store.commit_run(tenant_id, commit("run-3", planned=1, planned_mark=MARK_1, new_mark=MARK_0))
    assert same_mark.state_version == 1  # the mark never moves back, so it did not move
    members = store.commit_run(tenant_id, commit("run-4", planned=1, members=(member("ann", T0),)))
    assert members.state_version == 2
    state = store.marks.state(tenant_id)
    assert state is not None and (state.state_version, state.versioned_by) == (2, "run-4")
    assert state.last_run_id == "run-4"


def test_a_reset_moves_the_version_on_without_naming_a_run(
    store: SyncStore, db: Database, tenant_id: str
) -> None:
    store.commit_run(tenant_id, commit("run-1", planned=0, new_mark=MARK_1))
    store.marks.reset(tenant_id, None)
    with db.write() as conn:
        bump_state_version(conn, tenant_id, T0)
    state = store.marks.state(tenant_id)
    assert state is not None and (state.state_version, state.versioned_by, state.mark) == (3, None, None)
    with pytest.raises(StaleStateError, match=r"now at 3 \(its state was reset since\)"):
        store.commit_run(tenant_id, commit("run-2", planned=1, planned_mark=MARK_1, new_mark=MARK_2))


def test_a_commit_planned_against_an_older_version_is_refused_whole(
    store: SyncStore, db: Database, tenant_id: str
) -> None:
    store.commit_run(tenant_id, commit("run-B", planned=0, new_mark=MARK_1, members=(member("new", T0),)))
    rows = ledger_rows(db)

    with pytest.raises(StaleStateError) as caught:
        store.commit_run(tenant_id, commit("run-A", planned=0, new_mark=MARK_0, members=(member("old", T0),)))
    assert str(caught.value) == (
        "tenant 'acme': the plan was made against state version 0, the tenant is now at 1 "
        "(run run-B committed since); re-run the sync"
    )
    assert ledger_rows(db) == rows
    assert store.members.by_keys(tenant_id, ["CDRM_1"])["CDRM_1"].email == "new@acme.io"
    state = store.marks.state(tenant_id)
    assert state is not None and (state.mark, state.state_version, state.last_run_id) == (MARK_1, 1, "run-B")


def test_a_mark_moves_only_from_the_mark_the_run_started_at(store: SyncStore, tenant_id: str) -> None:
    store.commit_run(tenant_id, commit("run-1", planned=0, new_mark=MARK_1))
    with pytest.raises(StaleStateError) as caught:
        store.commit_run(tenant_id, commit("run-2", planned=1, planned_mark=MARK_0, new_mark=MARK_2))
    assert str(caught.value) == (
        f"tenant 'acme': the plan was made from mark {MARK_0.timestamp.isoformat()} / PartyId 100, the "
        f"tenant's mark is now {MARK_1.timestamp.isoformat()} / PartyId 200 (run run-1 committed since); "
        "re-run the sync"
    )
    replay = store.commit_run(tenant_id, commit("replay", planned=1, planned_mark=MARK_0))
    assert replay.mark_after == MARK_1  # a replay moves no mark, so its window's start does not matter
    moved = store.commit_run(tenant_id, commit("run-3", planned=1, planned_mark=MARK_1, new_mark=MARK_2))
    assert (moved.mark_before, moved.mark_after, moved.state_version) == (MARK_1, MARK_2, 2)


def test_of_two_commits_planned_against_one_version_exactly_one_lands(
    store: SyncStore, db: Database, tenant_id: str
) -> None:
    """The row lock serialises them, and the second sees the version the first wrote."""
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def run(run_id: str) -> None:
        barrier.wait(timeout=30)
        try:
            store.commit_run(
                tenant_id, commit(run_id, planned=0, new_mark=MARK_1, members=(member(run_id, T0),))
            )
            outcomes[run_id] = "committed"
        except StaleStateError as exc:
            outcomes[run_id] = str(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("run-A", "run-B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winner = next(name for name, outcome in outcomes.items() if outcome == "committed")
    loser = next(name for name in outcomes if name != winner)
    assert f"now at 1 (run {winner} committed since)" in outcomes[loser]
    assert ledger_rows(db) == 1
    assert store.members.by_keys(tenant_id, ["CDRM_1"])["CDRM_1"].email == f"{winner}@acme.io"


def test_a_commit_without_a_planned_version_is_not_checked(store: SyncStore, tenant_id: str) -> None:
    """Ledger-only commits (audience events) settle whatever ran meanwhile."""
    store.commit_run(tenant_id, commit("run-1", planned=0, new_mark=MARK_1))
    assert store.commit_run(tenant_id, commit("audience-events", planned=None)).state_version == 1


def test_member_state_is_never_replaced_by_an_older_record(store: SyncStore, tenant_id: str) -> None:
    newer, older = T0 + timedelta(hours=1), T0
    store.commit_run(tenant_id, RunCommit("run-1", T0, member_upserts=[member("newer", newer)]))
    store.commit_run(tenant_id, RunCommit("run-2", T0, member_upserts=[member("older", older)]))
    assert store.members.by_keys(tenant_id, ["CDRM_1"])["CDRM_1"].email == "newer@acme.io"

    store.commit_run(tenant_id, RunCommit("run-3", T0, member_upserts=[member("same-time", newer)]))
    assert store.members.by_keys(tenant_id, ["CDRM_1"])["CDRM_1"].email == "same-time@acme.io"
    store.commit_run(tenant_id, RunCommit("run-4", T0, member_upserts=[member("undated", None)]))
    assert store.members.by_keys(tenant_id, ["CDRM_1"])["CDRM_1"].email == "same-time@acme.io"


def test_a_member_stored_without_a_source_time_takes_any_record(store: SyncStore, tenant_id: str) -> None:
    store.commit_run(tenant_id, RunCommit("run-1", T0, member_upserts=[member("undated", None)]))
    store.commit_run(tenant_id, RunCommit("run-2", T0, member_upserts=[member("dated", T0)]))
    assert store.members.by_keys(tenant_id, ["CDRM_1"])["CDRM_1"].email == "dated@acme.io"
