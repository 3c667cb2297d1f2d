"""Unsubscribes and cleaned addresses seen in Mailchimp: audit, and respected (`audience_events`)."""

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa

from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.members import set_known_status
from oracle_mailchimp_dagster.store.records import AudienceEvent, AudienceEventKind
from oracle_mailchimp_dagster.store.schema import audience_events
from oracle_mailchimp_dagster.store.sql import WRITE_CHUNK, chunked, insert_ignoring_duplicates

# The Mailchimp member status each event leaves behind.
STATUS_AFTER = {AudienceEventKind.UNSUBSCRIBE: "unsubscribed", AudienceEventKind.CLEANED: "cleaned"}


class AudienceEventStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, tenant_id: str, events: Iterable[AudienceEvent]) -> int:
        """Store events not seen before and mark the affected members' status; returns how many were new.

        Idempotent: the same (address, event, time) recorded twice is stored once, so a sensor may
        re-read an overlapping window safely.
        """
        now = datetime.now(UTC)
        latest: dict[str, tuple[datetime, AudienceEventKind]] = {}
        new = 0
        with self._db.write() as conn:
            statement = insert_ignoring_duplicates(conn, audience_events).returning(
                audience_events.c.subscriber_hash, audience_events.c.event, audience_events.c.occurred_at
            )
            for chunk in chunked(events, WRITE_CHUNK):
                rows = [
                    {
                        "tenant_id": tenant_id,
                        "email": e.email,
                        "subscriber_hash": e.subscriber_hash,
                        "event": AudienceEventKind(e.event).value,
                        "occurred_at": e.occurred_at,
                        "source": e.source,
                        "recorded_at": now,
                    }
                    for e in chunk
                ]
                for subscriber_hash, event, occurred_at in conn.execute(statement, rows):
                    new += 1
                    if subscriber_hash not in latest or latest[subscriber_hash][0] <= occurred_at:
                        latest[subscriber_hash] = (occurred_at, AudienceEventKind(event))
            for kind, status in STATUS_AFTER.items():
                hashes = [h for h, (_, event) in latest.items() if event is kind]
                set_known_status(conn, tenant_id, hashes, status)
        return new

    def events(
        self, tenant_id: str, *, since: datetime | None = None, limit: int | None = None
    ) -> list[AudienceEvent]:
        """Events in the order they happened, optionally only those at or after `since`."""
        query = sa.select(audience_events).where(audience_events.c.tenant_id == tenant_id)
        if since is not None:
            query = query.where(audience_events.c.occurred_at >= since)
        query = query.order_by(audience_events.c.occurred_at, audience_events.c.id).limit(limit)
        with self._db.read() as conn:
            return [
                AudienceEvent(
                    email=m["email"],
                    subscriber_hash=m["subscriber_hash"],
                    event=AudienceEventKind(m["event"]),
                    occurred_at=m["occurred_at"],
                    source=m["source"],
                )
                for m in (row._mapping for row in conn.execute(query))
            ]
