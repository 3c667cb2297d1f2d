"""How far each tenant's Mailchimp audience changes have been read (table `audience_event_marks`).

The audience-events asset reads members changed at or after the mark and stores the newest
`last_changed` it saw; the window overlaps by that one instant, and recording is idempotent, so a
run that dies after recording and before storing the mark re-reads a little and records nothing twice.
"""

from datetime import UTC, datetime

import sqlalchemy as sa

from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.marks import require_tenant
from oracle_mailchimp_dagster.store.schema import audience_event_marks
from oracle_mailchimp_dagster.store.sql import upsert


class AudienceMarkStore:
    """Reads and moves the audience-events mark; it only moves forward."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, tenant_id: str) -> datetime | None:
        """The mark, or None before the tenant's first audience-events run."""
        query = sa.select(audience_event_marks.c.since).where(audience_event_marks.c.tenant_id == tenant_id)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return row[0] if row is not None else None

    def all(self) -> dict[str, datetime]:
        """Every tenant's mark, in one query (diagnostics and benchmarks)."""
        query = sa.select(audience_event_marks.c.tenant_id, audience_event_marks.c.since)
        with self._db.read() as conn:
            return {tenant_id: since for tenant_id, since in conn.execute(query)}

    def advance(self, tenant_id: str, since: datetime) -> datetime:
        """Store `since` unless the mark is already later (a slower run finishing after a faster one
        must not move it back); returns the mark now stored."""
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        now = datetime.now(UTC)
        with self._db.write() as conn:
            require_tenant(conn, tenant_id)
            current = conn.execute(
                sa.select(audience_event_marks.c.since).where(audience_event_marks.c.tenant_id == tenant_id)
            ).first()
            if current is not None and current[0] >= since:
                return current[0]
            conn.execute(
                upsert(conn, audience_event_marks, ("tenant_id",)).values(
                    tenant_id=tenant_id, since=since, updated_at=now
                )
            )
        return since

    def clear(self, tenant_id: str) -> bool:
        """Forget the mark (the next run reads the first look-back again); whether there was one."""
        with self._db.write() as conn:
            deleted = conn.execute(
                sa.delete(audience_event_marks).where(audience_event_marks.c.tenant_id == tenant_id)
            )
        return bool(deleted.rowcount)
