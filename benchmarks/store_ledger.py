"""How fast a run settles: ledger rows and member-state upserts per second through `commit_run`.

    .venv/bin/python -m benchmarks.store_ledger [--rows 1000000] [--members 200000] [--backend both]

SQLite goes to a temporary file; PostgreSQL to a scratch database on ORACLE_MAILCHIMP_TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/postgres), dropped afterwards.
"""

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import URL

from oracle_mailchimp_dagster.store import (
    Database,
    HighWaterMark,
    LedgerRecord,
    RunCommit,
    SyncStore,
    upgrade_schema,
)
from oracle_mailchimp_dagster.store.tenant_rows import TenantRow, insert_tenant
from oracle_mailchimp_dagster.sync.model import MemberState
from tests.support.scratch_db import scratch_postgres_database

TENANT = "bench"


@contextmanager
def _database(backend: str) -> Iterator[Database]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            db = Database.from_url(URL.create("sqlite", database=str(Path(tmp) / "bench.db")))
            yield db
            db.dispose()
    else:
        with scratch_postgres_database("omd_bench") as url:
            db = Database.from_url(url)
            yield db
            db.dispose()


def _ledger(n: int, run: int) -> list[LedgerRecord]:
    return [
        LedgerRecord(
            customer_key=f"CDRM_{i}",
            email=f"customer{i}@example.com",
            action="upsert",
            outcome="failed" if i % 97 == 0 else "succeeded",
            http_status=400 if i % 97 == 0 else 200,
            title="Invalid Resource" if i % 97 == 0 else None,
            detail="looks fake or invalid" if i % 97 == 0 else None,
            attempt=run,
        )
        for i in range(n)
    ]


def _members(n: int, now: datetime, version: int) -> list[MemberState]:
    return [
        MemberState(
            customer_key=f"CDRM_{i}",
            email=f"customer{i}@example.com",
            subscriber_hash=f"{i:032x}",
            payload_hash=f"{version:064x}",
            known_status="subscribed",
            managed_tags=frozenset({"segment:gold", "type:customer"}),
            last_synced_at=now,
            last_run_id=f"run-{version}",
        )
        for i in range(n)
    ]


def _timed(label: str, rows: int, store: SyncStore, commit: RunCommit) -> None:
    started = time.perf_counter()
    store.commit_run(TENANT, commit)
    _report(label, rows, time.perf_counter() - started)


def _report(label: str, rows: int, elapsed: float) -> None:
    print(f"  {label:<34} {rows:>10,} rows  {elapsed:7.2f} s  {rows / elapsed:>10,.0f} rows/s", flush=True)


def bench(backend: str, rows: int, members: int) -> None:
    print(f"{backend}:")
    with _database(backend) as db:
        upgrade_schema(db)
        now = datetime.now(UTC)
        with db.write() as conn:
            insert_tenant(conn, TenantRow(TENANT, "Benchmark", {}, True, now, now))
        store = SyncStore(db)
        mark = HighWaterMark(now, 1)
        _timed(
            "ledger rows (commit_run)", rows, store, RunCommit("run-1", now, _ledger(rows, 1), new_mark=mark)
        )
        _timed(
            "ledger rows, table not empty",
            rows,
            store,
            RunCommit("run-2", now, _ledger(rows, 2), new_mark=HighWaterMark(now + timedelta(seconds=1), 2)),
        )
        _timed(
            "member state inserts",
            members,
            store,
            RunCommit("run-3", now, member_upserts=_members(members, now, 3)),
        )
        _timed(
            "member state updates",
            members,
            store,
            RunCommit("run-4", now, member_upserts=_members(members, now, 4)),
        )
        started = time.perf_counter()
        found = store.members.by_keys(TENANT, (f"CDRM_{i}" for i in range(0, members, 2)))
        elapsed = time.perf_counter() - started
        _report("member state reads by key", len(found), elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="ledger rows per run")
    parser.add_argument("--members", type=int, default=200_000, help="member-state rows to upsert")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        bench(backend, args.rows, args.members)


if __name__ == "__main__":
    main()
