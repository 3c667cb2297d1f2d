"""Alerts to each tenant's webhook, and the freshness of each tenant's audience (issue 11).

Three sensors and one partitioned asset check:

- `tenant_run_alerts_sensor` reads the runs that finished since its cursor from the run storage, so it
  sees every run of a tenant however it was launched (the CLI's in-process runs too, which a
  `@run_failure_sensor` does not: they carry no code location). A failed run is one alert; a
  successful sync run that turned records into dead letters is one alert with the count.
- `audience_freshness_sensor` judges every enabled tenant against its own cron (no successful sync in
  three schedule intervals, `pipeline.alerts_freshness`); a tenant going stale is one alert and one
  failed `audience_fresh` evaluation of its partition, reported without a run.
- `alert_delivery_sensor` posts the outbox (`pipeline.alert_delivery`); failures retry with backoff.
- `audience_fresh` (partitioned by tenant) runs after each sync's results step and on demand.

Dagster's own freshness tools do not fit: `FreshnessPolicy` and `build_last_update_freshness_checks`
judge an asset as a whole (its latest materialization of any partition) against one deadline, and
`build_time_partition_freshness_checks` needs time-window partitions; the tenants are dynamic
partitions with a cron each. Producing is idempotent (event keys), so a tick that fails halfway is
simply repeated; one tenant's problem is logged and the others go on.
"""

import os
import socket
import warnings
from datetime import UTC, datetime, timedelta

import dagster as dg
from pydantic import BaseModel

from oracle_mailchimp_dagster.defs.assets import mailchimp_sync_results
from oracle_mailchimp_dagster.defs.cursors import load_cursor
from oracle_mailchimp_dagster.defs.jobs import tenant_sync_job
from oracle_mailchimp_dagster.defs.partitions import TENANTS, tenant_partitions
from oracle_mailchimp_dagster.defs.resources import AppDatabase
from oracle_mailchimp_dagster.defs.run_tags import TENANT_TAG, TRIGGER_TAG
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http.redaction import redact_credentials
from oracle_mailchimp_dagster.pipeline.alert_delivery import AlertDeliverer
from oracle_mailchimp_dagster.pipeline.alerts import (
    FailedRun,
    Staleness,
    dead_letters_alert,
    run_failed_alert,
    stale_alert,
)
from oracle_mailchimp_dagster.pipeline.alerts_freshness import STALE_INTERVALS, freshness
from oracle_mailchimp_dagster.pipeline.alerts_sources import dead_letters_made, tenant_redactor
from oracle_mailchimp_dagster.store.alert_outbox import AlertEvent, AlertOutbox
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

PARTITION_TAG = "dagster/partition"
CHECK_NAME = "audience_fresh"
RESULTS_KEY = mailchimp_sync_results.key
# The first tick looks this far back; later ticks re-read this much before the cursor (a run's status
# may be committed a moment after its timestamp), and the run ids already handled are remembered.
FIRST_LOOKBACK = timedelta(hours=1)
OVERLAP = timedelta(minutes=2)
RUN_PAGE = 200
MAX_PAGES = 10
DELIVERY_BATCH = 100
# Settled alerts are kept this long (what was sent, when, after how many attempts), then deleted.
OUTBOX_RETENTION = timedelta(days=30)
ERROR_EVENTS = {dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE}


class RunAlertsCursor(BaseModel):
    """The newest run update read, and the runs handled within `OVERLAP` of it (by update time)."""

    updated_after: datetime | None = None
    seen: dict[str, datetime] = {}


class FreshnessCursor(BaseModel):
    """Per tenant, the stale spell already reported (a failed check evaluation is recorded once)."""

    reported: dict[str, str] = {}


def _warn(context: dg.SensorEvaluationContext, tenant_id: str, what: str, exc: Exception) -> None:
    """One tenant's problem, logged (redacted) without stopping the others."""
    reason = redact_credentials(
        f"{type(exc).__name__}: {exc}" if not isinstance(exc, UserError) else str(exc)
    )
    context.log.warning(f"tenant {tenant_id}: {what} failed: {reason}")


def run_tenant(tags: dict[str, str]) -> str | None:
    """The tenant a run is for: its tenant tag, else its partition (a UI launch or backfill)."""
    return tags.get(TENANT_TAG) or tags.get(PARTITION_TAG)


def failed_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> FailedRun:
    """A failed run's first error: a `dg.Failure`'s description, else the innermost exception."""
    step, error = None, None
    records = instance.get_records_for_run(run.run_id, of_type=ERROR_EVENTS, limit=20).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.is_step_failure:
            data = event.step_failure_data
            step = event.step_key
            described = data.user_failure_data.description if data.user_failure_data else None
            cause = data.error
            while cause is not None and cause.cause is not None:
                cause = cause.cause
            lines = cause.message.strip().splitlines() if cause is not None else []
            text = lines[-1].partition(": ")[2] if lines else ""  # the message says its class too
            inner = (f"{cause.cls_name}: {text}" if text else cause.cls_name) if cause is not None else None
            error = described or inner
            break
        error = error or event.message or record.event_log_entry.user_message
    return FailedRun(run.run_id, run.job_name, run.tags.get(TRIGGER_TAG), step, error)


@dg.sensor(
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts a tenant's webhook about each failed run of the tenant and each sync run that "
    "made dead letters (however the run was launched).",
)
def tenant_run_alerts_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase
) -> dg.SensorResult | dg.SkipReason:
    cursor = load_cursor(RunAlertsCursor, context.cursor)
    try:
        registry, store, outbox = app_db.registry(), app_db.sync_store(), AlertOutbox(app_db.database())
    except UserError as exc:
        return dg.SkipReason(str(exc))
    since = cursor.updated_after or datetime.now(UTC) - FIRST_LOOKBACK
    start, newest = since - OVERLAP, since
    tenants: dict[str, TenantConfig | None] = {}
    events: list[AlertEvent] = []
    for _ in range(MAX_PAGES):
        statuses = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS]
        page = context.instance.get_run_records(
            dg.RunsFilter(statuses=statuses, updated_after=start),
            limit=RUN_PAGE,
            order_by="update_timestamp",
            ascending=True,
        )
        for record in page:
            run, updated = record.dagster_run, record.update_timestamp
            newest = max(newest, updated)
            if run.run_id in cursor.seen:
                continue
            tenant_id = run_tenant(dict(run.tags))
            try:
                if tenant_id is not None and tenant_id not in tenants:
                    exists = registry.exists(tenant_id) and registry.alert_webhook_set(tenant_id)
                    tenants[tenant_id] = registry.get(tenant_id) if exists else None
                tenant = tenants.get(tenant_id) if tenant_id is not None else None
                if tenant is not None:
                    events.extend(_run_events(context.instance, registry, store, tenant, run))
            except Exception as exc:  # one tenant's problem must not silence the others
                _warn(context, str(tenant_id), f"alerting about run {run.run_id}", exc)
                continue
            cursor.seen[run.run_id] = updated
        if len(page) < RUN_PAGE:
            break
        start = page[-1].update_timestamp
    created = outbox.produce(events)
    cursor.updated_after = newest
    cursor.seen = {run_id: at for run_id, at in cursor.seen.items() if at > newest - OVERLAP}
    produced = f"alerts produced: {len(created)}" + (f" ({', '.join(created)})" if created else "")
    return dg.SensorResult(cursor=cursor.model_dump_json(), skip_reason=produced)


def _run_events(
    instance: dg.DagsterInstance,
    registry: TenantRegistry,
    store: SyncStore,
    tenant: TenantConfig,
    run: dg.DagsterRun,
) -> list[AlertEvent]:
    """The alerts one finished run of the tenant calls for (none, or one)."""
    redact = tenant_redactor(registry, tenant)
    if run.status is dg.DagsterRunStatus.FAILURE:
        return [run_failed_alert(tenant, failed_run(instance, run), redact)]
    if run.job_name != tenant_sync_job.name:
        return []
    count = dead_letters_made(store, tenant.id, run.run_id)
    return [dead_letters_alert(tenant, run.run_id, count, redact)] if count else []


def last_syncs(instance: dg.DagsterInstance, tenant_ids: list[str]) -> dict[str, tuple[datetime, int]]:
    """Per tenant, the time and storage id of its latest sync that was not a dry run."""
    if not tenant_ids:
        return {}
    latest = instance.get_latest_storage_id_by_partition(
        RESULTS_KEY, dg.DagsterEventType.ASSET_MATERIALIZATION, partitions=set(tenant_ids)
    )
    records = []
    if latest:
        ids = list(latest.values())
        found = instance.fetch_materializations(dg.AssetRecordsFilter(RESULTS_KEY, storage_ids=ids), len(ids))
        records = list(found.records)
    syncs: dict[str, tuple[datetime, int]] = {}
    for record in records:
        if record.partition_key is not None and not _dry_run(record):
            syncs[record.partition_key] = (_at(record), record.storage_id)
    for tenant_id in set(latest) - set(syncs):  # the latest was a dry run: look further back
        older = instance.fetch_materializations(
            dg.AssetRecordsFilter(RESULTS_KEY, asset_partitions=[tenant_id]), limit=20
        )
        real = [record for record in older.records if not _dry_run(record)]
        if real:
            syncs[tenant_id] = (_at(real[0]), real[0].storage_id)
    return syncs


def _dry_run(record: dg.EventLogRecord) -> bool:
    materialization = record.asset_materialization
    entry = materialization.metadata.get("dry_run") if materialization else None
    return bool(entry is not None and entry.value)


def _at(record: dg.EventLogRecord) -> datetime:
    return datetime.fromtimestamp(record.timestamp, UTC)


def _staleness(
    tenant: TenantConfig, last: tuple[datetime, int] | None, registered: datetime, now: datetime
) -> Staleness | None:
    """The tenant's stale spell at `now`, or None while its audience is fresh."""
    verdict = freshness(
        tenant.schedule.cron,
        tenant.schedule.timezone,
        last_sync=last[0] if last else None,
        registered_at=registered,
        now=now,
    )
    if not verdict.stale:
        return None
    episode = (
        f"sync-{last[1]}" if last and last[0] >= registered else f"registered-{registered.timestamp():.0f}"
    )
    synced = last[0] if last and last[0] >= registered else None
    return Staleness(verdict.reference, synced, verdict.stale_at, STALE_INTERVALS, episode)


def _check_metadata(tenant: TenantConfig, stale: Staleness | None) -> dict[str, dg.MetadataValue]:
    """What a freshness verdict records: the schedule it was judged by, and the times (no secret)."""
    metadata: dict[str, dg.MetadataValue] = {
        "tenant": dg.MetadataValue.text(tenant.id),
        "cron": dg.MetadataValue.text(tenant.schedule.cron),
        "timezone": dg.MetadataValue.text(tenant.schedule.timezone),
        "intervals": dg.MetadataValue.int(STALE_INTERVALS),
    }
    if stale is not None:
        metadata["stale_since"] = dg.MetadataValue.timestamp(stale.became_stale_at)
        if stale.last_sync is not None:
            metadata["last_sync"] = dg.MetadataValue.timestamp(stale.last_sync)
    return metadata


def _readable_tenants(
    context: dg.SensorEvaluationContext, registry: TenantRegistry, tenant_ids: list[str]
) -> list[TenantConfig]:
    """The enabled tenants; one whose stored settings no longer validate is logged and left out."""
    try:
        return registry.list_all(enabled_only=True)
    except UserError:
        pass  # one of them is unreadable: read them one by one
    readable = []
    for tenant_id in tenant_ids:
        try:
            tenant = registry.get(tenant_id)
        except UserError as exc:
            _warn(context, tenant_id, "reading its settings", exc)
            continue
        if tenant.enabled:
            readable.append(tenant)
    return readable


@dg.sensor(
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts a tenant's webhook, and fails the tenant's audience_fresh check, when it had no "
    "successful sync in three intervals of its schedule.",
)
def audience_freshness_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase
) -> dg.SensorResult | dg.SkipReason:
    cursor = load_cursor(FreshnessCursor, context.cursor)
    try:
        registry, outbox = app_db.registry(), AlertOutbox(app_db.database())
        partitions = set(context.instance.get_dynamic_partitions(TENANTS))
        registered = registry.registered_at()
    except UserError as exc:
        return dg.SkipReason(str(exc))
    tenants = [t for t in _readable_tenants(context, registry, sorted(registered)) if t.id in partitions]
    syncs = last_syncs(context.instance, [t.id for t in tenants])
    now = datetime.now(UTC)
    evaluations: list[dg.AssetCheckEvaluation] = []
    events: list[AlertEvent] = []
    for tenant in tenants:
        try:
            stale = _staleness(tenant, syncs.get(tenant.id), registered[tenant.id], now)
            if stale is None:
                cursor.reported.pop(tenant.id, None)
                continue
            if cursor.reported.get(tenant.id) == stale.episode:
                continue
            redact = tenant_redactor(registry, tenant)
            alert = stale_alert(tenant, stale, redact)
            if registry.alert_webhook_set(tenant.id):
                events.append(alert)
            evaluations.append(
                dg.AssetCheckEvaluation(
                    asset_key=RESULTS_KEY,
                    check_name=CHECK_NAME,
                    passed=False,
                    partition=tenant.id,
                    metadata=_check_metadata(tenant, stale),
                    description=alert.text,
                )
            )
            cursor.reported[tenant.id] = stale.episode
        except Exception as exc:  # one tenant's problem must not silence the others
            _warn(context, tenant.id, "the freshness check", exc)
    cursor.reported = {t: e for t, e in cursor.reported.items() if t in {x.id for x in tenants}}
    created = outbox.produce(events)
    summary = f"stale tenants reported: {len(evaluations)}; alerts produced: {len(created)}"
    return dg.SensorResult(asset_events=evaluations, cursor=cursor.model_dump_json(), skip_reason=summary)


@dg.sensor(
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts the alerts waiting in the outbox to each tenant's webhook; a failed post is "
    "retried with backoff on later ticks.",
)
def alert_delivery_sensor(context: dg.SensorEvaluationContext, app_db: AppDatabase) -> dg.SkipReason:
    try:
        registry, outbox = app_db.registry(), AlertOutbox(app_db.database())
    except UserError as exc:
        return dg.SkipReason(str(exc))
    holder = f"alert_delivery_sensor@{socket.gethostname()}:{os.getpid()}"
    deliverer = AlertDeliverer(outbox, registry.alert_webhook, holder=holder)
    report = deliverer.deliver_due(limit=DELIVERY_BATCH)
    outbox.prune(datetime.now(UTC) - OUTBOX_RETENTION)
    for problem in report.problems:
        context.log.warning(problem)
    return dg.SkipReason(
        f"delivered {len(report.delivered)}, failed {len(report.failed)}, postponed {len(report.postponed)}"
    )


with warnings.catch_warnings():
    # A partitions_def on an asset check is a preview feature of Dagster 1.13 (see the module doc).
    warnings.simplefilter("ignore", dg.PreviewWarning)

    @dg.asset_check(
        asset=mailchimp_sync_results,
        name=CHECK_NAME,
        partitions_def=tenant_partitions,
        description="The tenant's audience was refreshed recently: a successful sync (not a dry run) "
        "within three intervals of the tenant's schedule. Evaluated for the synced tenant after each "
        "sync and, for every tenant, by audience_freshness_sensor, which also alerts the tenant's "
        "webhook. Fails once three intervals pass without one. To fix: look at the "
        "tenant's latest runs (Runs page, filter oracle_mailchimp/tenant), check its credentials with "
        "`oracle-mailchimp tenants test TENANT` and its schedule and enabled flag with `tenants show`.",
    )
    def audience_fresh(context: dg.AssetCheckExecutionContext, app_db: AppDatabase) -> dg.AssetCheckResult:
        tenant_id = context.partition_key
        try:
            registry = app_db.registry()
            tenant = registry.get(tenant_id)
            registered = registry.registered_at()[tenant_id]
        except UserError as exc:  # judged failed, not raised: the check must not fail the sync run
            return dg.AssetCheckResult(
                passed=False,
                description=f"tenant {tenant_id}: cannot judge freshness: {exc}",
                metadata={"tenant": dg.MetadataValue.text(tenant_id)},
            )
        stale = _staleness(
            tenant, last_syncs(context.instance, [tenant_id]).get(tenant_id), registered, _now()
        )
        description = (
            f"tenant {tenant_id}: fresh: a successful sync within three schedule intervals"
            if stale is None
            else stale_alert(tenant, stale, redact_credentials).text
        )
        metadata = _check_metadata(tenant, stale)
        return dg.AssetCheckResult(passed=stale is None, metadata=metadata, description=description)


def _now() -> datetime:
    return datetime.now(UTC)


SENSORS: list[dg.SensorDefinition] = [
    tenant_run_alerts_sensor,
    audience_freshness_sensor,
    alert_delivery_sensor,
]
CHECKS: list[dg.AssetChecksDefinition] = [audience_fresh]
