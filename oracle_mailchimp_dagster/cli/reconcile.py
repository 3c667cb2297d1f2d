"""`oracle-mailchimp reconcile TENANT`: find (and with --repair, mend) drift made in Mailchimp."""

import json
import uuid
from typing import Any

import click

from oracle_mailchimp_dagster.defs.drift import run_reconciliation
from oracle_mailchimp_dagster.defs.metadata import audit_command
from oracle_mailchimp_dagster.defs.resources import AppDatabase, MailchimpResource
from oracle_mailchimp_dagster.pipeline.drift import REPAIRABLE
from oracle_mailchimp_dagster.pipeline.reconcile import ReconcileResult
from oracle_mailchimp_dagster.pipeline.selection import parse_timestamp

_REPAIRABLE = {c.value for c in REPAIRABLE}


def result_json(tenant_id: str, result: ReconcileResult, holder: str) -> dict[str, Any]:
    report = result.report
    return {
        "tenant": tenant_id,
        "run_id": holder,
        "managed_members": report.managed,
        "audience_members": report.observed,
        "requests": result.requests,
        "changed_since": result.options.since_last_changed.isoformat()
        if result.options.since_last_changed
        else None,
        "drift_rate": round(report.rate, 6),
        "max_drift_rate": result.options.max_drift_rate,
        "over_limit": result.over_limit,
        "counts": report.by_class(),
        "fields_not_yet_known": report.unverified_fields,
        "samples": {
            name: [{"customer_key": f.customer_key, "email": f.email, "detail": f.detail} for f in findings]
            for name, findings in report.samples.items()
        },
        "repair": result.options.repair,
        "repairs": result.repairs,
    }


def result_lines(tenant_id: str, result: ReconcileResult, holder: str) -> list[str]:
    report = result.report
    lines = [
        f"tenant '{tenant_id}': {report.managed:,} managed members, {report.observed:,} in the audience "
        f"({result.requests:,} requests)"
    ]
    for name, count in report.by_class().items():
        sample = report.samples.get(name) or []
        first = (
            f"  e.g. {sample[0].email}" + (f": {sample[0].detail}" if sample[0].detail else "")
            if sample
            else ""
        )
        note = " (reported only)" if name not in _REPAIRABLE and count else ""
        lines.append(f"  {name:<20} {count:>8,}{note}{first}")
    if report.unverified_fields:
        lines.append(
            f"  {report.unverified_fields:,} members' merge fields are checked after their next sync "
            "(stored before the connector kept them)"
        )
    verdict = "over the limit" if result.over_limit else "ok"
    lines.append(f"drift rate {report.rate:.2%} (limit {result.options.max_drift_rate:.2%}): {verdict}")
    if result.options.repair:
        done = ", ".join(f"{k} {v:,}" for k, v in sorted(result.repairs.items())) or "nothing to repair"
        lines.append(f"repairs: {done}; ledger: {audit_command(tenant_id, holder)}")
    elif any(result.report.counts.get(name) for name in _REPAIRABLE):
        lines.append(f"repair with: oracle-mailchimp reconcile {tenant_id} --repair")
    return lines


@click.command()
@click.argument("tenant_id", metavar="TENANT")
@click.option(
    "--repair",
    is_flag=True,
    help="Re-send stale merge fields and managed tags and re-create missing members (where the "
    "tenant's reconcile settings allow). Never changes a status, never resubscribes, never touches "
    "members the connector does not manage, and leaves members a person archived archived unless "
    "the tenant's reconcile.restore_archived is set. Each repair is a ledger row (action 'repair').",
)
@click.option(
    "--changed-since",
    "changed_since",
    metavar="TS",
    help="Read only members Mailchimp changed at or after TS (ISO 8601; since_last_changed): cheaper, "
    "but a member deleted meanwhile is not seen missing. Default: the whole audience.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def reconcile(tenant_id: str, repair: bool, changed_since: str | None, as_json: bool) -> None:
    """Compare the tenant's Mailchimp audience with what the syncs left, and print the drift per class
    with a sample. Exits 0 when the drift rate is within the tenant's reconcile.max_drift_rate, 1 when
    it is above (after repairs, if --repair, the next reconcile tells whether they held)."""
    since = parse_timestamp("--changed-since", changed_since) if changed_since else None
    holder = f"reconcile-{uuid.uuid4()}"
    result = run_reconciliation(
        AppDatabase(), MailchimpResource(), tenant_id, holder=holder, repair=repair, since=since
    )
    if as_json:
        click.echo(json.dumps(result_json(tenant_id, result, holder), indent=2))
    else:
        for line in result_lines(tenant_id, result, holder):
            click.echo(line)
    if result.over_limit:
        raise click.exceptions.Exit(1)
