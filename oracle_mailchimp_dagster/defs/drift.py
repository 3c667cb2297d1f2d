"""Audience drift: a tenant's audience reconciled with the member state, as an asset, a check and a job.

The asset is downstream of the sync results (it compares the audience with what the syncs left) and
runs under the tenant's lease, so it never reads an audience a sync is halfway through writing. The
same function serves `oracle-mailchimp reconcile`. Scheduled weekly per tenant by default
(`reconcile.schedule`), through the same registry-driven sensor as the sync (`defs/scheduling.py`).
"""

import time
import warnings
from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

from oracle_mailchimp_dagster.defs.checks import check_result
from oracle_mailchimp_dagster.defs.partitions import tenant_partitions
from oracle_mailchimp_dagster.defs.resources import LEASES, AppDatabase, MailchimpResource
from oracle_mailchimp_dagster.defs.run_tags import SCHEDULED_FOR_TAG, TENANT_TAG, TRIGGER_TAG
from oracle_mailchimp_dagster.defs.scheduling import Clock, build_tenant_schedule_sensor, utc_now
from oracle_mailchimp_dagster.defs.step import user_errors_as_failures
from oracle_mailchimp_dagster.mailchimp.client import MailchimpClient
from oracle_mailchimp_dagster.pipeline.drift import DriftClass
from oracle_mailchimp_dagster.pipeline.reconcile import ReconcileOptions, ReconcileResult, reconcile
from oracle_mailchimp_dagster.tenants.model import Schedule, TenantConfig

DRIFT_ASSET = "mailchimp_audience_drift"
SYNC_GROUP = "oracle_to_mailchimp"


class DriftConfig(dg.Config):
    repair: bool = Field(
        default=False,
        description="Repair what drifted (stale fields, managed tags, missing members), also when the "
        "tenant's reconcile.repair is off; never a status, never an archived member unless the "
        "tenant's restore_archived says so",
    )


def options_for(tenant: TenantConfig, *, repair: bool, since: datetime | None = None) -> ReconcileOptions:
    settings = tenant.reconcile
    return ReconcileOptions(
        repair=repair or settings.repair,
        recreate_missing=settings.recreate_missing,
        restore_archived=settings.restore_archived,
        max_drift_rate=settings.max_drift_rate,
        since_last_changed=since,
    )


def run_reconciliation(
    app_db: AppDatabase,
    mailchimp: MailchimpResource,
    tenant_id: str,
    *,
    holder: str,
    repair: bool,
    since: datetime | None = None,
    log: dg.DagsterLogManager | None = None,
) -> ReconcileResult:
    """Reconcile one tenant under its lease (held by `holder`, a run id or a CLI invocation)."""
    info = log.info if log is not None else None
    try:
        step = app_db.open_tenant(tenant_id, holder=holder, log=info)
        options = options_for(step.tenant, repair=repair, since=since)
        with mailchimp.client(step.tenant, step.registry) as client:
            if not isinstance(client, MailchimpClient):  # pragma: no cover - a double without reads
                raise TypeError("reconciliation needs the Mailchimp client's audience reads")
            result = reconcile(
                client,
                tenant=step.tenant,
                store=step.store,
                run_id=holder,
                options=options,
                now=datetime.now(UTC),
                still_held=lambda: _still_held(holder, tenant_id),
            )
    finally:
        LEASES.release(holder)
    return result


def _still_held(holder: str, tenant_id: str) -> bool:
    held = LEASES.held(holder, tenant_id)
    return held is not None and held.renew_now()


def counts_table(result: ReconcileResult) -> dg.TableMetadataValue:
    counts = result.report.by_class()
    return dg.MetadataValue.table(
        records=[dg.TableRecord({"class": name, "members": count}) for name, count in counts.items()],
        schema=dg.TableSchema(columns=[dg.TableColumn("class", "string"), dg.TableColumn("members", "int")]),
    )


def samples_table(result: ReconcileResult) -> dg.TableMetadataValue:
    rows = [
        dg.TableRecord(
            {
                "class": finding.drift.value,
                "customer": finding.customer_key or "",
                "email": finding.email,
                "detail": finding.detail,
            }
        )
        for findings in result.report.samples.values()
        for finding in findings
    ]
    columns = [dg.TableColumn(name, "string") for name in ("class", "customer", "email", "detail")]
    return dg.MetadataValue.table(records=rows, schema=dg.TableSchema(columns=columns))


with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks are preview in 1.13
    DRIFT_CHECK = dg.AssetCheckSpec(
        "drift_rate",
        asset=DRIFT_ASSET,
        partitions_def=tenant_partitions,  # each tenant's latest result on its own partition
        description="The share of the tenant's managed members with drift (missing, stale merge fields, "
        "managed tags missing or extra, address spelled otherwise, archived by a person; not status "
        "changes, not unmanaged members). Warns above the tenant's reconcile.max_drift_rate (1% unless "
        "set). To fix: read the result's sample, then `oracle-mailchimp reconcile TENANT --repair`, or "
        "find who edits the audience by hand.",
    )


@dg.asset(
    name=DRIFT_ASSET,
    partitions_def=tenant_partitions,
    group_name=SYNC_GROUP,
    deps=["mailchimp_sync_results"],
    kinds={"mailchimp"},
    description="The tenant's audience read back from Mailchimp and compared with what the syncs left: "
    "members missing, stale merge fields, managed tags missing or extra, addresses spelled otherwise, "
    "members archived by a person, statuses changed (reported only) and members the connector does "
    "not manage (counted, never touched). With repair (run config, or the tenant's reconcile.repair) "
    "it re-sends what drifted, through the ledger with action 'repair'. Plotted: the count per class.",
    check_specs=[DRIFT_CHECK],
)
def mailchimp_audience_drift(
    context: dg.AssetExecutionContext,
    config: DriftConfig,
    app_db: AppDatabase,
    mailchimp: MailchimpResource,
) -> dg.MaterializeResult:
    started = time.monotonic()
    tenant_id = context.partition_key
    context.log.info(f"tenant {tenant_id}: reading the audience to compare it with the member state")
    with user_errors_as_failures():
        result = run_reconciliation(
            app_db, mailchimp, tenant_id, holder=context.run.run_id, repair=config.repair, log=context.log
        )
    report = result.report
    duration = time.monotonic() - started
    drifted = ", ".join(f"{k} {v}" for k, v in report.by_class().items() if v) or "none"
    context.log.info(
        f"tenant {tenant_id}: {report.observed} members read in {result.requests} requests, "
        f"{report.managed} managed; drift: {drifted}; {duration:.1f} s"
    )
    limit = result.options.max_drift_rate
    return dg.MaterializeResult(
        metadata={
            **{c.value: report.counts.get(c.value, 0) for c in DriftClass},
            "drift_rate": round(report.rate, 5),
            "managed_members": report.managed,
            "audience_members": report.observed,
            "fields_not_yet_known": report.unverified_fields,
            "requests": result.requests,
            "duration_s": round(duration, 3),
            "repair": result.options.repair,
            "repairs": dg.MetadataValue.json(result.repairs),
            "by_class": counts_table(result),
            "sample": samples_table(result),
        },
        check_results=[
            check_result(
                "drift_rate",
                tenant_id,
                passed=not result.over_limit,
                summary=f"{report.rate:.2%} of managed members drifted (warns above {limit:.2%})",
                metadata={"rate": round(report.rate, 5), "limit": limit},
            )
        ],
    )


audience_drift_job = dg.define_asset_job(
    "audience_drift_job",
    selection=[DRIFT_ASSET],
    executor_def=dg.in_process_executor,
    description="Reconcile one tenant's audience with its member state (drift report; repair if asked).",
)

RECONCILE_SENSOR = "tenant_reconcile_schedule_sensor"


def reconcile_schedule(config: TenantConfig) -> Schedule:
    return config.reconcile.schedule


def build_reconcile_schedule_sensor(clock: Clock = utc_now) -> dg.SensorDefinition:
    """Each enabled tenant's reconciliation on its reconcile.schedule (weekly by default)."""
    return build_tenant_schedule_sensor(
        clock,
        name=RECONCILE_SENSOR,
        job=audience_drift_job,
        schedule_of=reconcile_schedule,
        description="Requests each enabled tenant's audience reconciliation (drift report; repair only "
        "if the tenant's reconcile.repair is set) when its reconcile.schedule comes due in its time "
        "zone (default weekly, Monday 06:00 UTC), read from the tenant registry on every tick. Runs "
        f"carry the tags {TENANT_TAG}, {TRIGGER_TAG}=schedule and {SCHEDULED_FOR_TAG}.",
    )


ASSETS = [mailchimp_audience_drift]
JOBS = [audience_drift_job]
SENSORS = [build_reconcile_schedule_sensor()]
