"""The per-tenant high-water mark and last run (table `sync_state`)."""

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
    )


def require_tenant(conn: Connection, tenant_id: str) -> None:
    if conn.execute(sa.select(tenants.c.id).where(tenants.c.id == tenant_id)).first() is None:
        raise TenantNotFoundError(tenant_id)


def lock_mark(conn: Connection, tenant_id: str, now: datetime) -> HighWaterMark | None:
    """Create the tenant's state row if needed and lock it for this transaction; returns the mark."""
    require_tenant(conn, tenant_id)
    conn.execute(insert_ignoring_duplicates(conn, sync_state).values(tenant_id=tenant_id, updated_at=now))
    row = conn.execute(
        sa.select(sync_state).where(sync_state.c.tenant_id == tenant_id).with_for_update()
    ).one()
    return _state(row).mark


def store_mark(
    conn: Connection,
    tenant_id: str,
    mark: HighWaterMark | None,
    now: datetime,
    run_id: str | None = None,
    run_at: datetime | None = None,
) -> None:
    values: dict[str, object] = {
        "mark_timestamp": mark.timestamp if mark else None,
        "mark_key": mark.key if mark else None,
        "updated_at": now,
    }
    if run_id is not None:
        values.update(last_run_id=run_id, last_run_at=run_at)
    conn.execute(sa.update(sync_state).where(sync_state.c.tenant_id == tenant_id).values(**values))


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

    def reset(self, tenant_id: str, mark: HighWaterMark | None) -> None:
        """Set the mark to any value, backwards included (None: next run starts from the beginning)."""
        now = datetime.now(UTC)
        with self._db.write() as conn:
            lock_mark(conn, tenant_id, now)
            store_mark(conn, tenant_id, mark, now)
