"""One schedule per tenant, built from the registry (cron and time zone from the tenant record)."""

from pathlib import Path

import dagster as dg

from oracle_mailchimp_dagster.defs.jobs import tenant_sync_job
from oracle_mailchimp_dagster.defs.resources import AppDatabase
from oracle_mailchimp_dagster.defs.run_tags import Trigger, run_tags
from oracle_mailchimp_dagster.defs.tenant_source import load_or_default
from oracle_mailchimp_dagster.store.location import resolve_database_url
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry


def schedule_name(tenant_id: str) -> str:
    return f"sync_{tenant_id.replace('-', '_')}_schedule"


def build_tenant_schedule(tenant: TenantConfig) -> dg.ScheduleDefinition:
    tenant_id = tenant.id

    @dg.schedule(
        name=schedule_name(tenant_id),
        cron_schedule=tenant.schedule.cron,
        execution_timezone=tenant.schedule.timezone,
        job=tenant_sync_job,
        default_status=dg.DefaultScheduleStatus.RUNNING
        if tenant.enabled
        else dg.DefaultScheduleStatus.STOPPED,
        description=f"Incremental sync of tenant {tenant_id} "
        f"({tenant.schedule.cron}, {tenant.schedule.timezone})",
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, app_db: AppDatabase
    ) -> dg.RunRequest | dg.SkipReason:
        registry = app_db.registry()
        current = registry.get(tenant_id)
        if not current.enabled:
            return dg.SkipReason(f"tenant {tenant_id} is disabled")
        secret = registry.mailchimp_secret(current).get_secret_value()
        stamp = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "now"
        return dg.RunRequest(
            run_key=f"schedule:{tenant_id}:{stamp}",
            partition_key=tenant_id,
            tags=run_tags(tenant_id, secret, Trigger.SCHEDULE),
        )

    return _schedule


def _database_exists() -> bool:
    """False for a SQLite file that is not there yet: loading definitions must not create it."""
    url = resolve_database_url()
    return not url.drivername.startswith("sqlite") or Path(url.database or "").exists()


def build_schedules() -> list[dg.ScheduleDefinition]:
    """Schedules for every tenant in the registry (none, with a warning, before `db upgrade`)."""
    if not _database_exists():
        return []
    no_tenants: list[TenantConfig] = []
    tenants = load_or_default(lambda: TenantRegistry.open().list_all(), no_tenants, "tenant registry")
    return [build_tenant_schedule(t) for t in tenants]
