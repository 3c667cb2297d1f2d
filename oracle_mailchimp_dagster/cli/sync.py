"""`oracle-mailchimp sync`: run the real sync job for one tenant on the Dagster instance of DAGSTER_HOME.

The run is recorded in that instance, so it shows in the Dagster UI beside scheduled runs. DAGSTER_HOME
must be set (e.g. `export DAGSTER_HOME=$PWD/.dagster_home`); the directory is created when missing.
Dagster's own event log goes to the instance (and to stderr with --verbose); the command prints a
summary. Exit codes: 0 the run succeeded, 1 the run failed, 2 bad usage (options, tenant, setup).
"""

import contextlib
import io
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from oracle_mailchimp_dagster.cli.audit import entry_json, plural, run_entries, table_header, table_row
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http.redaction import redact_credentials
from oracle_mailchimp_dagster.store import LOCATION_HELP, LedgerEntry, SyncStore
from oracle_mailchimp_dagster.sync.outcomes import FAILED
from oracle_mailchimp_dagster.tenants.registry import open_registry

if TYPE_CHECKING:  # Dagster, pandas and the definitions load only when a sync runs.
    import dagster as dg

    from oracle_mailchimp_dagster.defs.launch import SyncRequest, SyncSummary

DAGSTER_HOME_EXAMPLE = "export DAGSTER_HOME=$PWD/.dagster_home"
FAILURE_SAMPLE = 5
EPILOG = (
    "Runs are recorded in the Dagster instance of $DAGSTER_HOME (required; the directory is created "
    f"when missing), e.g. `{DAGSTER_HOME_EXAMPLE}`. {LOCATION_HELP}"
)
# Run-config words in selection errors -> the flags a CLI user typed.
FLAG_FOR_WORD = {
    "since/until": "--since/--until",
    "replay_run_id": "--replay-run",
    "customer_keys": "--customer",
    "failed_only": "--failed-only",
    "full": "--full",
    "since": "--since",
    "until": "--until",
}
_WORD = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in FLAG_FOR_WORD) + r")(?![\w/])")
_FAILED_OUTCOMES = frozenset(o.value for o in FAILED)


class SyncFailedError(UserError):
    """The run started and failed (its reason is the message); its events are in the Dagster instance."""

    exit_code = 1


# ---- pure helpers -------------------------------------------------------------------------------


def flag_names(message: str) -> str:
    """Selection errors speak run config (`replay_run_id`); say the flags instead, outside quotes."""
    parts = re.split(r"('[^']*')", message)
    return "".join(
        part if index % 2 else _WORD.sub(lambda m: FLAG_FOR_WORD[m.group(1)], part)
        for index, part in enumerate(parts)
    )


def customer_keys(values: tuple[str, ...]) -> tuple[str, ...]:
    """`--customer A --customer B,C` -> (A, B, C), blanks dropped, order kept."""
    keys = (key.strip() for value in values for key in value.split(","))
    return tuple(dict.fromkeys(key for key in keys if key))


def check_selection(request: "SyncRequest", store: SyncStore | None = None) -> None:
    """The checks the job itself makes, made before any run starts. A replay needs the ledger
    (`store`) to check its run; without a store it is left for the second call."""
    if request.replay_run_id is not None and store is None:
        return
    from oracle_mailchimp_dagster.pipeline.selection import SelectionError, resolve_selection

    try:
        resolve_selection(
            full=request.full,
            since=request.since,
            until=request.until,
            replay_run_id=request.replay_run_id,
            failed_only=request.failed_only,
            customer_keys=request.customer_keys,
            store=store,
            tenant_id=request.tenant_id,
        )
    except SelectionError as exc:
        raise SelectionError(flag_names(str(exc))) from None


def failure_reason(error: str | None) -> str:
    """The run's error on one line (the run's `dg.Failure` description, or the exception's class and
    message: see `defs.launch`)."""
    if not error:
        return "see the run's event log in the Dagster UI"
    return redact_credentials(" ".join(error.split()))


def dagster_home(env: Mapping[str, str]) -> Path:
    """The instance directory from DAGSTER_HOME, which must be set and absolute (as Dagster requires)."""
    raw = env.get("DAGSTER_HOME", "").strip()
    if not raw:
        raise UserError(
            "DAGSTER_HOME is not set: it is the directory where Dagster records runs (so they show in "
            f"the UI); set it, e.g. `{DAGSTER_HOME_EXAMPLE}`"
        )
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise UserError(f"DAGSTER_HOME must be an absolute path, not '{raw}': e.g. `{DAGSTER_HOME_EXAMPLE}`")
    if path.exists() and not path.is_dir():
        raise UserError(f"DAGSTER_HOME '{path}' is not a directory")
    return path


def _section(metadata: Mapping[str, Mapping[str, Any]], asset: str) -> Mapping[str, Any]:
    return metadata.get(asset, {})


def _counts(values: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {key.removeprefix(prefix): int(value) for key, value in values.items() if key.startswith(prefix)}


def build_report(
    request: "SyncRequest",
    summary: "SyncSummary",
    *,
    duration_s: float,
    ledger_rows: int,
    failures: list[LedgerEntry],
) -> dict[str, Any]:
    """What the command prints, from the run's materialization metadata (plain JSON values)."""
    extract = _section(summary.metadata, "fusion_customers")
    plan = _section(summary.metadata, "mailchimp_members")
    results = _section(summary.metadata, "mailchimp_sync_results")
    audit_command = f"oracle-mailchimp audit {request.tenant_id} --run {summary.run_id}"
    return {
        "tenant": request.tenant_id,
        "run_id": summary.run_id,
        "success": summary.success,
        "error": failure_reason(summary.error) if not summary.success else None,
        "dry_run": request.dry_run,
        "mode": extract.get("mode"),
        "window_start": extract.get("window_start"),
        "window_end": extract.get("window_end"),
        "rows_read": extract.get("rows"),
        "retries_due": extract.get("retries_due"),
        "planned": _counts(plan, "action_"),
        "removals": plan.get("removals"),
        "outcomes": _counts(results, "outcome_"),
        "failed": results.get("failed"),
        "failures_sample": [entry_json(entry) for entry in failures],
        "mark_before": results.get("mark_before", extract.get("mark_before")),
        "mark_after": results.get("mark_after"),
        "dead_letters": results.get("dead_letters"),
        "duration_s": round(duration_s, 3),
        "records_per_second": results.get("records_per_second"),
        "ledger_rows": ledger_rows,
        "audit_command": audit_command if ledger_rows else None,
    }


def _nonzero(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count) or "none"


def render_report(report: Mapping[str, Any], failures: list[LedgerEntry]) -> list[str]:
    """The summary as terminal lines."""
    verdict = "succeeded" if report["success"] else "FAILED"
    dry = " (dry run)" if report["dry_run"] else ""
    lines = [
        f"sync {report['tenant']}{dry}: run {report['run_id']} {verdict} in {report['duration_s']:.1f} s"
    ]
    if report["mode"] is not None:
        selection = str(report["mode"])
        if report["mode"] != "keys":
            selection += f", LastUpdateDate from {report['window_start']} to {report['window_end'] or 'now'}"
        lines.append(f"  selection: {selection}")
        lines.append(
            f"  read:      {plural(report['rows_read'], 'customer')} from Oracle "
            f"({report['retries_due']} of them due for retry)"
        )
    if report["planned"]:
        lines.append(f"  planned:   {_nonzero(report['planned'])}")
    if report["outcomes"]:
        lines.append(f"  outcomes:  {_nonzero(report['outcomes'])}")
    before, after = report["mark_before"], report["mark_after"]
    if after is not None and after != before:
        lines.append(f"  mark:      {before} -> {after}")
    elif before is not None:
        lines.append(f"  mark:      {before} (unchanged)")
    if report["dead_letters"]:
        lines.append(f"  dead letters waiting: {report['dead_letters']}")
    if report["failed"]:
        shown = f"the first {len(failures)}" if len(failures) < report["failed"] else "all"
        lines.append(f"  failures:  {report['failed']} ({shown} below)")
        lines.extend("    " + line for line in [table_header(), *map(table_row, failures)])
    if report["dry_run"] and report["success"]:
        lines.append(
            "  dry run: nothing was sent, recorded or moved; the plan is in the run's metadata (Dagster UI)"
        )
    elif not report["ledger_rows"] and not report["success"]:
        lines.append("  nothing was settled: the ledger and the mark are as they were")
    if report["audit_command"]:
        lines.append(f"see all records: {report['audit_command']}")
    return lines


# ---- I/O at the edges ---------------------------------------------------------------------------


def open_instance() -> "dg.DagsterInstance":
    """The instance of DAGSTER_HOME, its directory created when missing."""
    import dagster as dg

    from oracle_mailchimp_dagster.defs.instance import open_instance as open_home_instance

    home = dagster_home(os.environ)
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create DAGSTER_HOME '{home}': {exc.strerror}") from None
    try:
        return open_home_instance(home)  # under the home's lock: first runs on a new home race otherwise
    except dg.DagsterError as exc:
        reason = " ".join(str(exc).split())
        raise UserError(f"cannot open the Dagster instance in DAGSTER_HOME '{home}': {reason}") from None


@contextlib.contextmanager
def dagster_output(verbose: bool) -> Iterator[None]:
    """Dagster logs every event to stderr; keep that for --verbose (the instance records it anyway)."""
    if verbose:
        yield
        return
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def failure_sample(store: SyncStore, tenant_id: str, run_id: str, count: int) -> list[LedgerEntry]:
    """The run's first `count` failed rows, reading the ledger in order only as far as needed (call it
    only when the run reported failures, or it reads the whole run)."""
    failed = (e for e in run_entries(store, tenant_id, run_id, None) if e.outcome in _FAILED_OUTCOMES)
    return list(islice(failed, count))


@click.command(epilog=EPILOG)
@click.argument("tenant_id", metavar="TENANT")
@click.option("--full", is_flag=True, help="Every customer (a full resync); the mark does not move back.")
@click.option("--since", metavar="TS", help="Customers whose LastUpdateDate is at or after TS (ISO 8601).")
@click.option("--until", metavar="TS", help="With --since: before TS (default: now).")
@click.option("--replay-run", "replay_run_id", metavar="RUN_ID", help="The customers of an earlier run.")
@click.option("--failed-only", is_flag=True, help="With --replay-run: only its failed records.")
@click.option(
    "--customer",
    "customers",
    multiple=True,
    metavar="KEY",
    help="These customers (PartyNumber); repeat it or separate keys with commas.",
)
@click.option("--dry-run", is_flag=True, help="Plan only: nothing is sent or recorded; the mark stays.")
@click.option(
    "--lease-wait",
    "lease_wait_s",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="While another run syncs the tenant, wait this long for it before failing (default 600; 0: fail "
    "at once).",
)
@click.option(
    "--lease-ttl",
    "lease_ttl_s",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="How long this run's lease on the tenant outlives the run if it dies (default 60).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also stream Dagster's event log to stderr.")
def sync(
    tenant_id: str,
    full: bool,
    since: str | None,
    until: str | None,
    replay_run_id: str | None,
    failed_only: bool,
    customers: tuple[str, ...],
    dry_run: bool,
    lease_wait_s: float | None,
    lease_ttl_s: float | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """Sync one tenant now: the job the schedules run, on the Dagster instance of DAGSTER_HOME.

    Without a selection: the customers changed since the last run (plus due retries). At most one of
    --full, --since/--until, --replay-run, --customer. One run per tenant writes at a time: while
    another holds the tenant, this one waits (--lease-wait), then fails naming it. Exits 0 when the
    run succeeded, 1 when it failed (with the reason), 2 for bad usage.
    """
    import dagster as dg

    from oracle_mailchimp_dagster.defs.launch import SyncRequest, launch_sync

    request = SyncRequest(
        tenant_id=tenant_id,
        full=full,
        since=since,
        until=until,
        replay_run_id=replay_run_id,
        failed_only=failed_only,
        customer_keys=customer_keys(customers),
        dry_run=dry_run,
        lease_wait_s=lease_wait_s,
        lease_ttl_s=lease_ttl_s,
    )
    check_selection(request)
    dagster_home(os.environ)
    started = time.monotonic()
    with open_registry() as registry:
        registry.get(tenant_id)
        store = SyncStore(registry.db)
        check_selection(request, store)
        with dagster_output(verbose), open_instance() as instance:
            try:
                summary = launch_sync(request, registry, instance)
            except dg.DagsterError as exc:
                raise SyncFailedError(f"the sync run could not start: {' '.join(str(exc).split())}") from None
        duration = time.monotonic() - started
        ledger_rows = sum(store.ledger.outcome_counts(tenant_id, summary.run_id).values())
        failed = int(summary.metadata.get("mailchimp_sync_results", {}).get("failed", 0))
        failures = failure_sample(store, tenant_id, summary.run_id, FAILURE_SAMPLE) if failed else []
    report = build_report(request, summary, duration_s=duration, ledger_rows=ledger_rows, failures=failures)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo("\n".join(render_report(report, failures)))
    if not summary.success:
        raise SyncFailedError(f"run {summary.run_id} failed: {failure_reason(summary.error)}")
