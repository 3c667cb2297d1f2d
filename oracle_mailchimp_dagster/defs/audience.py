"""Mailchimp audience events (unsubscribes, cleaned addresses) read in runs, requested by a sensor.

The sensor only requests: one run per enabled tenant per interval, staggered over the interval by
tenant, with no Mailchimp call, so a slow account costs its own run and never a tick. The asset reads
what changed since the tenant's audience mark, records it (audit, member state, ledger) and moves the
mark, under the tenant's lease: it writes member status, so it waits for a sync of the tenant that is
between its plan and its commit instead of interleaving with it (one writer per tenant).
"""

import hashlib
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from oracle_mailchimp_dagster.defs.cursors import AudienceEventsCursor, load_cursor
from oracle_mailchimp_dagster.defs.metadata import DETAILS, audit_command, details_table
from oracle_mailchimp_dagster.defs.partitions import TENANTS, tenant_partitions
from oracle_mailchimp_dagster.defs.resources import AppDatabase, MailchimpResource
from oracle_mailchimp_dagster.defs.run_tags import TENANT_TAG, TRIGGER_TAG, Trigger, run_tags
from oracle_mailchimp_dagster.defs.step import user_errors_as_failures
from oracle_mailchimp_dagster.defs.tenant_source import enabled_tenants
from oracle_mailchimp_dagster.http.redaction import redact_credentials
from oracle_mailchimp_dagster.pipeline.audience import record_audience_events, window_start
from oracle_mailchimp_dagster.store.audience_marks import AudienceMarkStore

AUDIENCE_GROUP = "mailchimp_audience"
AUDIENCE_EVENTS_INTERVAL = timedelta(minutes=5)

# A run of these is still to come or under way: the tenant gets no second one meanwhile.
_UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.asset(
    partitions_def=tenant_partitions,
    group_name=AUDIENCE_GROUP,
    kinds={"mailchimp"},
    description="Mailchimp unsubscribes and cleaned addresses since the tenant's audience mark, recorded "
    "for audit (audience events, member status, a ledger row per customer holding the address) and "
    "respected by later syncs; nothing is written to Oracle or Mailchimp. Plotted: seen, recorded, "
    "ledger_rows, duration_s.",
)
def mailchimp_audience_events(
    context: dg.AssetExecutionContext, app_db: AppDatabase, mailchimp: MailchimpResource
) -> dg.MaterializeResult:
    started = time.monotonic()
    with user_errors_as_failures(), app_db.tenant_step(context) as step:
        marks = AudienceMarkStore(step.store.db)
        mark = marks.get(step.tenant_id)
        since = window_start(mark, datetime.now(UTC))
        context.log.info(
            f"tenant {step.tenant_id}: reading audience {step.tenant.mailchimp.list_id}'s unsubscribes and "
            f"cleaned addresses since {since.isoformat(timespec='seconds')}"
        )
        with mailchimp.client(step.tenant, step.registry) as client:
            result = record_audience_events(client, step.store, step.tenant, since, run_id=context.run.run_id)
        stored = marks.advance(step.tenant_id, result.next_since)
    duration = time.monotonic() - started
    audit = audit_command(step.tenant_id, context.run.run_id, app_db.database_url)
    context.log.info(
        f"tenant {step.tenant_id}: {result.seen} events seen, {result.recorded} recorded, "
        f"{result.ledger_rows} ledger rows written, mark now {stored.isoformat(timespec='seconds')}, "
        f"in {duration:.1f} s; every record: {audit}"
    )
    return dg.MaterializeResult(
        metadata={
            "tenant": step.tenant_id,
            "seen": result.seen,
            "recorded": result.recorded,
            "ledger_rows": result.ledger_rows,
            "duration_s": round(duration, 3),
            "since": dg.MetadataValue.timestamp(since),
            "next_since": dg.MetadataValue.timestamp(stored),
            "first_read": mark is None,
            DETAILS: details_table({"lease_waited_s": round(step.lease_waited_s, 3)}),
            "ledger_query": audit,
        }
    )


audience_events_job = dg.define_asset_job(
    "audience_events_job",
    selection=dg.AssetSelection.assets(mailchimp_audience_events),
    executor_def=dg.in_process_executor,
    description="Record one tenant's Mailchimp unsubscribes and cleaned addresses since its mark.",
)


def interval_slot(tenant_id: str, now: datetime, interval: timedelta = AUDIENCE_EVENTS_INTERVAL) -> int:
    """The number of the tenant's current interval. Each tenant's intervals are shifted by a fixed
    offset taken from its id, so hundreds of tenants spread their runs over the interval instead of
    all starting together."""
    seconds = int(interval.total_seconds())
    offset = int.from_bytes(hashlib.sha256(tenant_id.encode()).digest()[:8], "big") % seconds
    return (int(now.timestamp()) + offset) // seconds


def unfinished_audience_runs(instance: dg.DagsterInstance) -> set[str]:
    """Tenants with an audience-events run queued or under way (one query for all)."""
    records = instance.get_run_records(
        dg.RunsFilter(
            job_name=audience_events_job.name,
            statuses=_UNFINISHED,
            tags={TRIGGER_TAG: Trigger.AUDIENCE_EVENTS.value},
        )
    )
    return {r.dagster_run.tags[TENANT_TAG] for r in records if TENANT_TAG in r.dagster_run.tags}


@dg.sensor(
    job=audience_events_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests one audience-events run per enabled tenant every "
    f"{int(AUDIENCE_EVENTS_INTERVAL.total_seconds() // 60)} minutes (spread over the interval), none "
    "while the tenant's previous one is unfinished; it calls no API itself.",
)
def mailchimp_audience_events_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase
) -> dg.SensorResult:
    cursor = load_cursor(AudienceEventsCursor, context.cursor)
    registry = app_db.registry()
    partitions = set(context.instance.get_dynamic_partitions(TENANTS))
    tenants = [t for t in enabled_tenants(registry) if t.id in partitions]
    now = datetime.now(UTC)
    slots = {t.id: interval_slot(t.id, now) for t in tenants}
    # A tenant seen for the first time (a new one, or every one after an upgrade) waits for its own
    # interval to begin, so a fleet never starts its runs all in one tick.
    due = {t: slot for t, slot in slots.items() if cursor.requested.setdefault(t, slot) != slot}
    busy = unfinished_audience_runs(context.instance) & set(due) if due else set()
    run_requests, failed = [], 0
    for tenant in tenants:
        slot = due.get(tenant.id)
        if slot is None or tenant.id in busy:
            continue
        try:
            secret = registry.mailchimp_secret(tenant).get_secret_value()
        except Exception as exc:  # isolated: the others are still requested
            failed += 1
            context.log.warning(
                f"tenant '{tenant.id}': no audience-events run requested: {redact_credentials(str(exc))}. "
                f"To fix it, check its stored secrets with `oracle-mailchimp tenants test {tenant.id}`"
            )
            continue
        run_requests.append(
            dg.RunRequest(
                run_key=f"audience-events:{tenant.id}:{slot}",
                partition_key=tenant.id,
                tags=run_tags(tenant.id, secret, Trigger.AUDIENCE_EVENTS),
            )
        )
        cursor.requested[tenant.id] = slot
    cursor.requested = {t: s for t, s in cursor.requested.items() if t in slots}
    context.log.info(
        f"{len(run_requests)} audience-events run(s) requested for {len(tenants)} tenant(s); "
        f"{len(busy)} still unfinished, {failed} failed"
    )
    return dg.SensorResult(run_requests=run_requests, cursor=cursor.model_dump_json())


ASSETS: list[dg.AssetsDefinition] = [mailchimp_audience_events]
JOBS: list[dg.JobDefinition | UnresolvedAssetJobDefinition] = [audience_events_job]
SENSORS: list[dg.SensorDefinition] = [mailchimp_audience_events_sensor]
