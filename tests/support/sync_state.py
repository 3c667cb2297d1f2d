"""Stored sync state for the reset tests: seed a committed run, and take a snapshot to compare after.

The snapshot reads through the store's own readers, so "unchanged" means what a sync would see.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from oracle_mailchimp_dagster.store import (
    Database,
    HighWaterMark,
    LedgerRecord,
    RetryEntry,
    RunCommit,
    SyncStore,
)
from oracle_mailchimp_dagster.sync.model import MemberState

SEEDED_AT = datetime(2025, 1, 5, 17, 2, 41, 507000, tzinfo=UTC)
SEEDED_MARK = HighWaterMark(SEEDED_AT, 300)


def member_keys(count: int) -> list[str]:
    return [f"CDRM_{i}" for i in range(count)]


def seed_state(db: Database, tenant_id: str, members: int = 3, run_id: str = "seed-run") -> None:
    """A committed run: `members` members, one queued retry (key CDRM_X) and SEEDED_MARK."""
    keys = member_keys(members)
    SyncStore(db).commit_run(
        tenant_id,
        RunCommit(
            run_id=run_id,
            finished_at=SEEDED_AT,
            ledger=[LedgerRecord(key, f"{key.lower()}@acme.io", "upsert", "created", 200) for key in keys],
            member_upserts=[
                MemberState(
                    key, f"{key.lower()}@acme.io", f"{i:032x}", "p", "transactional", last_synced_at=SEEDED_AT
                )
                for i, key in enumerate(keys)
            ],
            retry_upserts=[RetryEntry("CDRM_X", 1, SEEDED_AT, "HTTP 503", False, SEEDED_AT)],
            new_mark=SEEDED_MARK,
        ),
    )


@dataclass(frozen=True)
class StateSnapshot:
    members: dict[str, MemberState]
    retries: list[str]
    mark: HighWaterMark | None


def snapshot(db: Database, tenant_id: str, members: int = 3) -> StateSnapshot:
    """The member state of the seeded keys, the queued retries' keys and the mark."""
    store = SyncStore(db)
    return StateSnapshot(
        members=store.members.by_keys(tenant_id, member_keys(members)),
        retries=sorted(store.retries.entries(tenant_id, ["CDRM_X"])),
        mark=store.marks.get(tenant_id),
    )


def is_empty(state: StateSnapshot) -> bool:
    return not state.members and not state.retries and state.mark is None
