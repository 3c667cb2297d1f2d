"""Alerts waiting to be sent to a tenant's webhook, and the ones sent (table `alert_outbox`).

Producing is idempotent: an event has a key (`run_failed:<run id>`, ...) and a second `produce` of the
same key inserts nothing, so a producer may look at the same run twice. Delivering takes a claim first:
`claim` marks due rows with a fresh token until `claimed_until`, in one conditional UPDATE per batch
(`... WHERE claim expired`), so of two deliverers racing for a row exactly one gets it, on SQLite
(writers serialise) and PostgreSQL (the row is locked and the condition re-read) alike. `delivered` and
`failed` name the token, so a deliverer whose claim expired and was taken over changes nothing. A claim
lasts longer than one delivery attempt may take, so a row is never sent by two deliverers at once.
"""

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.schema import LEASE_HOLDER_LENGTH, alert_outbox
from oracle_mailchimp_dagster.store.sql import insert_ignoring_duplicates

EVENT_KEY_LENGTH = 200
# A row that failed this many times stays undelivered (with its last error) and is not claimed again.
MAX_ATTEMPTS = 20
ERROR_CHARS = 500


class AlertKind(StrEnum):
    """What an alert is about."""

    RUN_FAILED = "run_failed"
    DEAD_LETTERS = "dead_letters"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert to produce: `event_key` names the event (the same event is produced once)."""

    tenant_id: str
    event_key: str
    kind: AlertKind
    text: str


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One row of the outbox as read back; `claimed_by` is a claim token while a deliverer holds it."""

    id: int
    tenant_id: str
    event_key: str
    kind: AlertKind
    text: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    claimed_by: str | None
    claimed_until: datetime | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _entry(m: Any) -> OutboxEntry:
    return OutboxEntry(
        id=int(m["id"]),
        tenant_id=m["tenant_id"],
        event_key=m["event_key"],
        kind=AlertKind(m["kind"]),
        text=m["text"],
        created_at=m["created_at"],
        attempts=int(m["attempts"]),
        next_attempt_at=m["next_attempt_at"],
        delivered_at=m["delivered_at"],
        last_error=m["last_error"],
        claimed_by=m["claimed_by"],
        claimed_until=m["claimed_until"],
    )


def claim_token(holder: str) -> str:
    """`holder` plus a random suffix: unique per claim, and readable in the table (which sensor)."""
    suffix = secrets.token_hex(8)
    return f"{holder[: LEASE_HOLDER_LENGTH - len(suffix) - 1]}:{suffix}"


class AlertOutbox:
    """Produce, claim and settle alerts; `clock` stamps every change (tests replace it)."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._db = db
        self._clock = clock

    def produce(self, events: Iterable[AlertEvent]) -> list[str]:
        """Insert each event not produced before; the keys that were new, in order."""
        now = self._clock()
        created: list[str] = []
        with self._db.write() as conn:
            for event in events:
                if len(event.event_key) > EVENT_KEY_LENGTH:
                    raise ValueError(f"alert event key longer than {EVENT_KEY_LENGTH} characters")
                statement = insert_ignoring_duplicates(conn, alert_outbox).values(
                    tenant_id=event.tenant_id,
                    event_key=event.event_key,
                    kind=event.kind.value,
                    text=event.text,
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
                if conn.execute(statement).rowcount == 1:
                    created.append(event.event_key)
        return created

    def claim(self, holder: str, *, ttl: timedelta, limit: int = 50) -> list[OutboxEntry]:
        """Claim up to `limit` due rows (undelivered, next attempt due, no live claim), oldest first."""
        now = self._clock()
        token = claim_token(holder)
        claimable = sa.and_(
            alert_outbox.c.delivered_at.is_(None),
            alert_outbox.c.attempts < MAX_ATTEMPTS,
            alert_outbox.c.next_attempt_at <= now,
            sa.or_(alert_outbox.c.claimed_until.is_(None), alert_outbox.c.claimed_until <= now),
        )
        with self._db.write() as conn:
            candidates = [
                int(row.id)
                for row in conn.execute(
                    sa.select(alert_outbox.c.id)
                    .where(claimable)
                    .order_by(alert_outbox.c.next_attempt_at, alert_outbox.c.id)
                    .limit(limit)
                )
            ]
            if not candidates:
                return []
            conn.execute(
                sa.update(alert_outbox)
                .where(alert_outbox.c.id.in_(candidates), claimable)
                .values(claimed_by=token, claimed_until=now + ttl)
            )
            rows = conn.execute(
                sa.select(alert_outbox)
                .where(alert_outbox.c.id.in_(candidates), alert_outbox.c.claimed_by == token)
                .order_by(alert_outbox.c.next_attempt_at, alert_outbox.c.id)
            )
            return [_entry(row._mapping) for row in rows]

    def delivered(self, entry: OutboxEntry) -> bool:
        """Record the delivery of a claimed row; False when the claim was lost (nothing changes)."""
        now = self._clock()
        return self._settle(
            entry,
            delivered_at=now,
            attempts=alert_outbox.c.attempts + 1,
            last_error=None,
        )

    def failed(self, entry: OutboxEntry, error: str, retry_at: datetime) -> bool:
        """Record a failed attempt of a claimed row and when to try again; False when the claim was lost."""
        return self._settle(
            entry,
            attempts=alert_outbox.c.attempts + 1,
            last_error=error[:ERROR_CHARS],
            next_attempt_at=retry_at,
        )

    def release(self, entry: OutboxEntry) -> bool:
        """Give a claimed row back untried (it is due again at once); False when the claim was lost."""
        return self._settle(entry)

    def _settle(self, entry: OutboxEntry, **values: Any) -> bool:
        if entry.claimed_by is None:
            raise ValueError("only a claimed outbox row can be settled")
        with self._db.write() as conn:
            result = conn.execute(
                sa.update(alert_outbox)
                .where(
                    alert_outbox.c.id == entry.id,
                    alert_outbox.c.claimed_by == entry.claimed_by,
                    alert_outbox.c.delivered_at.is_(None),
                )
                .values(claimed_by=None, claimed_until=None, **values)
            )
        return bool(result.rowcount == 1)

    def prune(self, before: datetime) -> int:
        """Delete the rows settled before `before` (delivered, or out of attempts); how many."""
        with self._db.write() as conn:
            result = conn.execute(
                sa.delete(alert_outbox).where(
                    sa.or_(
                        alert_outbox.c.delivered_at < before,
                        sa.and_(
                            alert_outbox.c.delivered_at.is_(None),
                            alert_outbox.c.attempts >= MAX_ATTEMPTS,
                            alert_outbox.c.next_attempt_at < before,
                        ),
                    )
                )
            )
        return int(result.rowcount)

    # --- reads -----------------------------------------------------------------------------------

    def get(self, event_key: str) -> OutboxEntry | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(alert_outbox).where(alert_outbox.c.event_key == event_key)).first()
        return _entry(row._mapping) if row is not None else None

    def entries(self, tenant_id: str | None = None, *, limit: int = 1000) -> Sequence[OutboxEntry]:
        """Rows oldest first (one tenant's, or all): for status output and tests."""
        query = sa.select(alert_outbox).order_by(alert_outbox.c.id).limit(limit)
        if tenant_id is not None:
            query = query.where(alert_outbox.c.tenant_id == tenant_id)
        with self._db.read() as conn:
            return [_entry(row._mapping) for row in conn.execute(query)]
