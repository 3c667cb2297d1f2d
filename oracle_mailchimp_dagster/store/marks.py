"""The per-tenant high-water mark, state version and last run (table `sync_state`)."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.errors import TenantNotFoundError
from oracle_mailchimp_dagster.store.records import HighWaterMark, SyncState
from oracle_mailchimp_dagster.store.schema import sync_state, tenants
from oracle_mailchimp_dagster.store.sql import insert_ignoring_duplicates


def _state(row: Row[tuple[object, ...]]) -> SyncState:
    m = row._mapping
    mark = None
    if m["mark_timestamp"] is not None and m["mark_key"] is not None:
        mark = HighWaterMark(timestamp=m["mark_timestamp"], key=m["mark_key"])
    return SyncState(
        tenant_id=m["tenant_id"],
        mark=mark,
        last_run_id=m["last_run_id"],
        last_run_at=m["last_run_at"],
        updated_at=m["updated_at"],
        state_version=int(m["state_version"]),
        versioned_by=m["versioned_by"],
    )


def require_tenant(conn: Connection, tenant_id: str) -> None:
    if conn.execute(sa.select(tenants.c.id).where(tenants.c.id == tenant_id)).first() is None:
        raise TenantNotFoundError(tenant_id)


def lock_state(conn: Connection, tenant_id: str, now: datetime) -> SyncState:
    """Create the tenant's state row if needed and lock it for this transaction; returns the row."""
    require_tenant(conn, tenant_id)
    conn.execute(insert_ignoring_duplicates(conn, sync_state).values(tenant_id=tenant_id, updated_at=now))
    row = conn.execute(
        sa.select(sync_state).where(sync_state.c.tenant_id == tenant_id).with_for_update()
    ).one()
    return _state(row)


def lock_mark(conn: Connection, tenant_id: str, now: datetime) -> HighWaterMark | None:
    """`lock_state`, for callers that need only the mark."""
    return lock_state(conn, tenant_id, now).mark


def store_mark(
    conn: Connection,
    tenant_id: str,
    mark: HighWaterMark | None,
    now: datetime,
    run_id: str | None = None,
    run_at: datetime | None = None,
    *,
    bump_version: bool = True,
) -> None:
    """Write the mark of a locked row. Unless told otherwise it is a change of state (a reset, a commit
    that wrote members), so the state version moves on and names `run_id` as its author."""
    values: dict[str, object] = {
        "mark_timestamp": mark.timestamp if mark else None,
        "mark_key": mark.key if mark else None,
        "updated_at": now,
    }
    if run_id is not None:
        values.update(last_run_id=run_id, last_run_at=run_at)
    if bump_version:
        values.update(state_version=sync_state.c.state_version + 1, versioned_by=run_id)
    conn.execute(sa.update(sync_state).where(sync_state.c.tenant_id == tenant_id).values(**values))


def bump_state_version(conn: Connection, tenant_id: str, now: datetime, run_id: str | None = None) -> None:
    """Mark a change of the tenant's member state made outside `commit_run` (e.g. a reset that deletes
    member state), so plans made before it are refused."""
    lock_state(conn, tenant_id, now)
    conn.execute(
        sa.update(sync_state)
        .where(sync_state.c.tenant_id == tenant_id)
        .values(state_version=sync_state.c.state_version + 1, versioned_by=run_id, updated_at=now)
    )


class MarkStore:
    """Reads of the mark, and deliberate resets (a run moves it only through `commit_run`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def state(self, tenant_id: str) -> SyncState | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(sync_state).where(sync_state.c.tenant_id == tenant_id)).first()
        return _state(row) if row is not None else None

    def get(self, tenant_id: str) -> HighWaterMark | None:
        """The mark, or None before the first committed run (extract everything)."""
        state = self.state(tenant_id)
        return state.mark if state else None

    def version(self, tenant_id: str) -> int:
        """The tenant's state version (0 before anything was committed)."""
        state = self.state(tenant_id)
        return state.state_version if state else 0

    def reset(self, tenant_id: str, mark: HighWaterMark | None) -> None:
        """Set the mark to any value, backwards included (None: next run starts from the beginning).

        A reset is a change of state: the version moves on, so a plan made before it is refused."""
        now = datetime.now(UTC)
        with self._db.write() as conn:
            lock_state(conn, tenant_id, now)
            store_mark(conn, tenant_id, mark, now)
