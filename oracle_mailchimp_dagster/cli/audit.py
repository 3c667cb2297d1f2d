"""`oracle-mailchimp audit`: read the ledger (one row per record per run), never write anything.

Three views: every row of one run in order (`--run`), one customer's history newest first
(`--customer`), or, with neither, the tenant's latest committed run. Ledger rows hold Mailchimp's
answers (status, title, detail), never credentials. The database is found as the Dagster resources
find it (`store.location.locate_database`); a missing SQLite file is an error, never created here.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import Any

import click

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.store import (
    LOCATION_HELP,
    Database,
    LedgerEntry,
    SyncStore,
    TenantNotFoundError,
)
from oracle_mailchimp_dagster.store.location import locate_database
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

PAGE = 1000
# (header, width) of the fixed columns; the last column (title: detail) takes what is left.
COLUMNS = (
    ("RECORDED_AT", 19),
    ("RUN", 8),
    ("CUSTOMER", 16),
    ("EMAIL", 32),
    ("ACTION", 14),
    ("OUTCOME", 17),
    ("STATUS", 6),
)
DETAIL_WIDTH = 70


def fit(text: str | None, width: int) -> str:
    """One line of exactly `width` characters: whitespace collapsed, cut with an ellipsis."""
    flat = " ".join((text or "").split())
    return flat.ljust(width) if len(flat) <= width else flat[: width - 1] + "…"


def entry_detail(entry: LedgerEntry) -> str:
    return ": ".join(part for part in (entry.title, entry.detail) if part)


def table_header() -> str:
    return "  ".join(fit(name, width) for name, width in COLUMNS) + "  TITLE: DETAIL"


def table_row(entry: LedgerEntry) -> str:
    cells = (
        entry.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
        entry.run_id[:8],
        entry.customer_key,
        entry.email,
        entry.action,
        entry.outcome,
        "" if entry.http_status is None else str(entry.http_status),
    )
    fixed = "  ".join(fit(cell, width) for cell, (_, width) in zip(cells, COLUMNS, strict=True))
    return (fixed + "  " + fit(entry_detail(entry), DETAIL_WIDTH)).rstrip()


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    """Every field of a ledger row, timestamps in ISO 8601."""
    data = asdict(entry)
    data["recorded_at"] = entry.recorded_at.isoformat()
    return data


def run_entries(store: SyncStore, tenant_id: str, run_id: str, limit: int | None) -> Iterator[LedgerEntry]:
    """The run's rows in order, read a page at a time so a large run never sits in memory whole."""
    after_id, left = 0, limit
    while left is None or left > 0:
        page = store.ledger.for_run(
            tenant_id, run_id, limit=PAGE if left is None else min(PAGE, left), after_id=after_id
        )
        yield from page
        if len(page) < PAGE:
            return
        after_id = page[-1].id
        left = None if left is None else left - len(page)


def latest_run_id(store: SyncStore, tenant_id: str) -> str | None:
    """The run that last committed for the tenant (its sync state), or None before the first."""
    state = store.marks.state(tenant_id)
    return state.last_run_id if state else None


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"


def echo_entries(entries: Iterable[LedgerEntry], as_json: bool) -> int:
    """Print the rows as a table or a JSON array, streaming; returns how many were printed."""
    printed = 0
    if as_json:
        click.echo("[", nl=False)
        for entry in entries:
            click.echo(("," if printed else "") + "\n  " + json.dumps(entry_json(entry)), nl=False)
            printed += 1
        click.echo("\n]" if printed else "]")
        return printed
    for entry in entries:
        if not printed:
            click.echo(table_header())
        click.echo(table_row(entry))
        printed += 1
    return printed


def _require_tenant(registry: TenantRegistry, tenant_id: str) -> None:
    if not registry.exists(tenant_id):
        raise TenantNotFoundError(tenant_id)


@click.command(
    epilog=f"{LOCATION_HELP} audit only reads: a missing database is an error naming where it looked, "
    "never created. The audit command a run's metadata prints (ledger_query) carries the DAGSTER_HOME or "
    "database URL of that run, so it works pasted into any shell."
)
@click.argument("tenant_id", metavar="TENANT")
@click.option("--run", "run_id", metavar="RUN_ID", help="Every row of this run (full run id), in order.")
@click.option("--customer", "customer_key", metavar="KEY", help="This customer's history, newest first.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N rows (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print the full rows as a JSON array.")
def audit(
    tenant_id: str, run_id: str | None, customer_key: str | None, limit: int | None, as_json: bool
) -> None:
    """Show the audit ledger: what each run did to each record, and Mailchimp's answer.

    Without --run or --customer: the rows of the tenant's latest committed run. Rows of a removed
    tenant stay readable with --run and --customer.
    """
    if run_id is not None and customer_key is not None:
        raise click.UsageError("choose one of --run and --customer")
    location = locate_database()
    location.require_existing()  # reading never creates a database
    db = Database.from_url(location.url)
    try:
        registry = TenantRegistry.open(db)
        store = SyncStore(db)
        if customer_key is not None:
            _show_customer(registry, store, tenant_id, customer_key, limit, as_json)
            return
        if run_id is None:
            _require_tenant(registry, tenant_id)
            run_id = latest_run_id(store, tenant_id)
            if run_id is None:
                if as_json:
                    click.echo("[]")
                else:
                    click.echo(
                        f"tenant '{tenant_id}' has no committed run yet: oracle-mailchimp sync {tenant_id}"
                    )
                return
        _show_run(registry, store, tenant_id, run_id, limit, as_json)
    finally:
        db.dispose()


def _show_run(
    registry: TenantRegistry, store: SyncStore, tenant_id: str, run_id: str, limit: int | None, as_json: bool
) -> None:
    counts = store.ledger.outcome_counts(tenant_id, run_id)
    if not counts:
        _require_tenant(registry, tenant_id)
        raise UserError(
            f"run '{run_id}' has no ledger rows for tenant '{tenant_id}' (dry runs and failed runs "
            f"write none): `oracle-mailchimp audit {tenant_id}` shows the latest committed run"
        )
    total = sum(counts.values())
    if not as_json:
        shown = total if limit is None else min(limit, total)
        click.echo(f"tenant {tenant_id}, run {run_id}: {plural(total, 'row')} ({counts_text(counts)})")
        if shown < total:
            click.echo(f"showing the first {shown}; drop --limit to see all")
    echo_entries(run_entries(store, tenant_id, run_id, limit), as_json)


def _show_customer(
    registry: TenantRegistry,
    store: SyncStore,
    tenant_id: str,
    customer_key: str,
    limit: int | None,
    as_json: bool,
) -> None:
    entries = store.ledger.for_customer(tenant_id, customer_key, limit=limit)
    if not entries:
        _require_tenant(registry, tenant_id)
    if not as_json:
        if not entries:
            click.echo(f"tenant {tenant_id}, customer {customer_key}: no ledger rows")
            return
        click.echo(
            f"tenant {tenant_id}, customer {customer_key}: {plural(len(entries), 'row')}, newest first"
        )
    echo_entries(entries, as_json)
