"""The append-only audit trail: one row per record per run (table `sync_ledger`)."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oracle_mailchimp_dagster.store.bulk import PreparedWrite, prepare_insert
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.records import LedgerEntry, LedgerRecord
from oracle_mailchimp_dagster.store.schema import sync_ledger
from oracle_mailchimp_dagster.store.sql import WRITE_CHUNK, chunked


def ledger_rows(
    tenant_id: str, run_id: str, recorded_at: datetime, records: Iterable[LedgerRecord]
) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": tenant_id,
            "run_id": run_id,
            "customer_key": r.customer_key,
            "email": r.email,
            "action": r.action,
            "outcome": r.outcome,
            "http_status": r.http_status,
            "title": r.title,
            "detail": r.detail,
            "attempt": r.attempt,
            "recorded_at": recorded_at,
        }
        for r in records
    ]


@dataclass(frozen=True)
class PreparedLedger:
    """A run's ledger rows formatted before its transaction (see `bulk`), and the count per outcome."""

    writes: tuple[PreparedWrite, ...]
    outcomes: Counter[str]

    def write(self, conn: Connection) -> Counter[str]:
        for prepared in self.writes:
            prepared.write(conn)
        return self.outcomes


def prepare_ledger(
    dialect: str, tenant_id: str, run_id: str, recorded_at: datetime, records: Iterable[LedgerRecord]
) -> PreparedLedger:
    writes: list[PreparedWrite] = []
    outcomes: Counter[str] = Counter()
    for chunk in chunked(records, WRITE_CHUNK):
        prepared = prepare_insert(dialect, sync_ledger, ledger_rows(tenant_id, run_id, recorded_at, chunk))
        if prepared is not None:
            writes.append(prepared)
        outcomes.update(r.outcome for r in chunk)
    return PreparedLedger(tuple(writes), outcomes)


def append_ledger(
    conn: Connection, tenant_id: str, run_id: str, recorded_at: datetime, records: Iterable[LedgerRecord]
) -> Counter[str]:
    """Insert the run's rows in large chunks (see `bulk`); returns the count per outcome."""
    return prepare_ledger(conn.dialect.name, tenant_id, run_id, recorded_at, records).write(conn)


def _entry(m: Any) -> LedgerEntry:
    return LedgerEntry(
        id=m["id"],
        tenant_id=m["tenant_id"],
        run_id=m["run_id"],
        customer_key=m["customer_key"],
        email=m["email"],
        action=m["action"],
        outcome=m["outcome"],
        http_status=m["http_status"],
        title=m["title"],
        detail=m["detail"],
        attempt=m["attempt"],
        recorded_at=m["recorded_at"],
    )


class LedgerStore:
    """Reads of the ledger, in insertion order; large runs page with `after_id`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def for_run(
        self, tenant_id: str, run_id: str, *, limit: int | None = None, after_id: int = 0
    ) -> list[LedgerEntry]:
        """The run's rows with id > `after_id`, at most `limit` of them."""
        query = (
            sa.select(sync_ledger)
            .where(
                sync_ledger.c.tenant_id == tenant_id,
                sync_ledger.c.run_id == run_id,
                sync_ledger.c.id > after_id,
            )
            .order_by(sync_ledger.c.id)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_entry(row._mapping) for row in conn.execute(query)]

    def for_customer(
        self, tenant_id: str, customer_key: str, *, limit: int | None = None
    ) -> list[LedgerEntry]:
        """A customer's history across runs, newest first."""
        query = (
            sa.select(sync_ledger)
            .where(sync_ledger.c.tenant_id == tenant_id, sync_ledger.c.customer_key == customer_key)
            .order_by(sync_ledger.c.id.desc())
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_entry(row._mapping) for row in conn.execute(query)]

    def outcome_counts(self, tenant_id: str, run_id: str) -> dict[str, int]:
        query = (
            sa.select(sync_ledger.c.outcome, sa.func.count())
            .where(sync_ledger.c.tenant_id == tenant_id, sync_ledger.c.run_id == run_id)
            .group_by(sync_ledger.c.outcome)
        )
        with self._db.read() as conn:
            return {outcome: int(count) for outcome, count in conn.execute(query)}
