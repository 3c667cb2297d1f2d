"""Records whose outcome was retryable, and dead letters after too many attempts (table `retry_queue`)."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oracle_mailchimp_dagster.store.bulk import prepare_upsert
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.members import PreparedUpserts
from oracle_mailchimp_dagster.store.records import RetryEntry
from oracle_mailchimp_dagster.store.schema import retry_queue
from oracle_mailchimp_dagster.store.sql import IN_CHUNK, WRITE_CHUNK, chunked, select_in

_KEY = ("tenant_id", "customer_key")


def _entry(m: Any) -> RetryEntry:
    return RetryEntry(
        customer_key=m["customer_key"],
        attempts=m["attempts"],
        next_attempt_at=m["next_attempt_at"],
        last_error=m["last_error"],
        dead_letter=m["dead_letter"],
        first_failed_at=m["first_failed_at"],
    )


def prepare_retries(
    dialect: str, tenant_id: str, entries: Iterable[RetryEntry], now: datetime
) -> PreparedUpserts:
    """`upsert_retries`' rows, formatted for `dialect`."""
    latest = {entry.customer_key: entry for entry in entries}
    writes = []
    for chunk in chunked(latest.values(), WRITE_CHUNK):
        rows = [
            {
                "tenant_id": tenant_id,
                "customer_key": e.customer_key,
                "attempts": e.attempts,
                "next_attempt_at": e.next_attempt_at,
                "last_error": e.last_error,
                "dead_letter": e.dead_letter,
                "first_failed_at": e.first_failed_at,
                "updated_at": now,
            }
            for e in chunk
        ]
        prepared = prepare_upsert(dialect, retry_queue, _KEY, rows)
        if prepared is not None:
            writes.append(prepared)
    return PreparedUpserts(tuple(writes), len(latest))


def upsert_retries(conn: Connection, tenant_id: str, entries: Iterable[RetryEntry], now: datetime) -> int:
    return prepare_retries(conn.dialect.name, tenant_id, entries, now).write(conn)


def clear_retries(conn: Connection, tenant_id: str, customer_keys: Iterable[str]) -> int:
    cleared = 0
    for chunk in chunked(set(customer_keys), IN_CHUNK):
        result = conn.execute(
            sa.delete(retry_queue).where(
                retry_queue.c.tenant_id == tenant_id, retry_queue.c.customer_key.in_(chunk)
            )
        )
        cleared += result.rowcount
    return cleared


class RetryQueueStore:
    """Reads of the retry queue (changes go through `commit_run`, with the run's ledger rows)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def entries(self, tenant_id: str, customer_keys: Iterable[str]) -> dict[str, RetryEntry]:
        """Queue entries (dead letters included) for these keys, to count the next attempt."""
        with self._db.read() as conn:
            entries = [
                _entry(m) for m in select_in(conn, retry_queue, tenant_id, "customer_key", customer_keys)
            ]
        return {entry.customer_key: entry for entry in entries}

    def due(self, tenant_id: str, now: datetime, *, limit: int | None = None) -> list[RetryEntry]:
        """Entries whose next attempt is due (never dead letters), oldest due first."""
        query = (
            sa.select(retry_queue)
            .where(
                retry_queue.c.tenant_id == tenant_id,
                retry_queue.c.dead_letter.is_(False),
                retry_queue.c.next_attempt_at <= now,
            )
            .order_by(retry_queue.c.next_attempt_at, retry_queue.c.customer_key)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_entry(row._mapping) for row in conn.execute(query)]

    def dead_letter_count(self, tenant_id: str) -> int:
        query = sa.select(sa.func.count()).where(
            retry_queue.c.tenant_id == tenant_id, retry_queue.c.dead_letter.is_(True)
        )
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def dead_letters(self, tenant_id: str, *, limit: int | None = None) -> list[RetryEntry]:
        query = (
            sa.select(retry_queue)
            .where(retry_queue.c.tenant_id == tenant_id, retry_queue.c.dead_letter.is_(True))
            .order_by(retry_queue.c.first_failed_at, retry_queue.c.customer_key)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_entry(row._mapping) for row in conn.execute(query)]
