"""Scheduling that follows the tenant registry with no reload: one sensor for every tenant.

Each evaluation (every 30 s) reads the registry, works out every enabled tenant's due cron tick in
its time zone (`defs/schedule_ticks.py`, `defs/schedule_evaluation.py`) and requests a run for the
latest due tick not yet requested (run key `schedule:<tenant>:<tick>`, so a tick runs once). A tenant
added, changed or disabled takes effect at the next evaluation; per-tenant schedules would change
only when the code location is reloaded. The tick's log lists every tenant's next due time; its skip
message shows the soonest. The same machinery schedules each tenant's reconciliation
(`defs/drift.py`): a second sensor, built here from the tenant's `reconcile.schedule` and its job.
"""

from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from pydantic import ValidationError

from oracle_mailchimp_dagster.defs.cursors import load_cursor
from oracle_mailchimp_dagster.defs.jobs import tenant_sync_job
from oracle_mailchimp_dagster.defs.partitions import TENANTS, tenant_partitions
from oracle_mailchimp_dagster.defs.resources import AppDatabase
from oracle_mailchimp_dagster.defs.run_tags import (
    SCHEDULED_FOR_TAG,
    TENANT_TAG,
    TRIGGER_TAG,
    Trigger,
    run_tags,
)
from oracle_mailchimp_dagster.defs.schedule_evaluation import (
    Evaluation,
    StoredTenant,
    TagsFor,
    evaluate,
)
from oracle_mailchimp_dagster.defs.schedule_ticks import ScheduleCursor, TenantSchedule
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.store import tenant_rows
from oracle_mailchimp_dagster.tenants.errors import describe_validation_error
from oracle_mailchimp_dagster.tenants.model import Schedule, TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry

SENSOR_NAME = "tenant_schedule_sensor"
EVALUATION_INTERVAL_S = 30

Clock = Callable[[], datetime]
# Which of a tenant's schedules a sensor follows.
ScheduleOf = Callable[[TenantConfig], Schedule]


def sync_schedule(config: TenantConfig) -> Schedule:
    return config.schedule


def utc_now() -> datetime:
    return datetime.now(UTC)


def stored_tenants(
    registry: TenantRegistry, schedule_of: ScheduleOf = sync_schedule
) -> tuple[list[StoredTenant], dict[str, TenantConfig]]:
    """Every tenant row, each validated on its own (one bad record does not hide the others), with the
    schedule `schedule_of` picks, and the configurations that validated."""
    with registry.db.read() as conn:
        rows = tenant_rows.select_tenants(conn)
    found, configs = [], {}
    for row in rows:
        try:
            config = TenantConfig.from_stored(row.id, row.display_name, row.enabled, row.config)
        except ValidationError as exc:
            problem = describe_validation_error(exc, f"stored tenant '{row.id}'")
            found.append(StoredTenant(row.id, row.enabled, None, problem))
            continue
        configs[config.id] = config
        chosen = schedule_of(config)
        schedule = TenantSchedule(config.id, chosen.cron, chosen.timezone)
        found.append(StoredTenant(config.id, config.enabled, schedule))
    return found, configs


def queued_scheduled_runs(instance: dg.DagsterInstance, job_name: str) -> dict[str, str]:
    """Tenant -> a scheduled run of the job for it that is still waiting in the run queue."""
    runs = instance.get_runs(
        dg.RunsFilter(
            job_name=job_name,
            statuses=[dg.DagsterRunStatus.QUEUED],
            tags={TRIGGER_TAG: Trigger.SCHEDULE.value},
        )
    )
    return {run.tags[TENANT_TAG]: run.run_id for run in runs if TENANT_TAG in run.tags}


def scheduled_run_tags(registry: TenantRegistry, configs: dict[str, TenantConfig]) -> TagsFor:
    """Run tags of a scheduled run; the Mailchimp credential is decrypted only for a tenant now due."""

    def tags_for(tenant_id: str) -> dict[str, str]:
        secret = registry.mailchimp_secret(configs[tenant_id]).get_secret_value()
        return run_tags(tenant_id, secret, Trigger.SCHEDULE)

    return tags_for


def sensor_result(evaluation: Evaluation, partitions: set[str]) -> dg.SensorResult:
    requests = [
        dg.RunRequest(
            run_key=request.run_key,
            partition_key=request.tenant_id,
            tags={**request.tags, SCHEDULED_FOR_TAG: request.tick.isoformat()},
        )
        for request in evaluation.requests
    ]
    missing = sorted({r.tenant_id for r in evaluation.requests} - partitions)
    # A tenant added since the registry sensor's last tick gets its partition here, before its run.
    adds = [tenant_partitions.build_add_request(missing)] if missing else []
    return dg.SensorResult(
        run_requests=requests,
        skip_reason=None if requests else evaluation.skip_message(),
        cursor=evaluation.cursor.model_dump_json(),
        dynamic_partitions_requests=adds,
    )


SYNC_DESCRIPTION = (
    "Requests each enabled tenant's incremental sync when its cron (schedule) comes due in its time "
    "zone, read from the tenant registry on every tick (no reload). After downtime only the latest "
    "missed tick runs. Each tick's log lists the tenants' next due times; runs carry the tags "
    f"{TENANT_TAG}, {TRIGGER_TAG}=schedule and {SCHEDULED_FOR_TAG}."
)


def build_tenant_schedule_sensor(
    clock: Clock = utc_now,
    *,
    name: str = SENSOR_NAME,
    job: dg.JobDefinition | UnresolvedAssetJobDefinition = tenant_sync_job,
    schedule_of: ScheduleOf = sync_schedule,
    description: str = SYNC_DESCRIPTION,
) -> dg.SensorDefinition:
    """A scheduling sensor of `job` on each tenant's `schedule_of` cron, reading the time from `clock`
    (tests pass their own)."""
    job_name = job.name

    @dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=EVALUATION_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=description,
    )
    def tenant_schedule_sensor(
        context: dg.SensorEvaluationContext, app_db: AppDatabase
    ) -> dg.SensorResult | dg.SkipReason:
        now = clock()
        cursor = load_cursor(ScheduleCursor, context.cursor)
        try:
            registry = app_db.registry()
            tenants, configs = stored_tenants(registry, schedule_of)
        except UserError as exc:
            context.log.error(f"tenant registry unavailable: {exc}")
            return dg.SkipReason(f"Tenant registry unavailable: {exc}")
        queued = queued_scheduled_runs(context.instance, job_name)
        evaluation = evaluate(tenants, cursor, now, scheduled_run_tags(registry, configs), queued)
        for level, line in evaluation.logs:
            getattr(context.log, level)(line)
        return sensor_result(evaluation, set(context.instance.get_dynamic_partitions(TENANTS)))

    return tenant_schedule_sensor


tenant_schedule_sensor = build_tenant_schedule_sensor()

SENSORS: list[dg.SensorDefinition] = [tenant_schedule_sensor]
SCHEDULES: list[dg.ScheduleDefinition] = []
