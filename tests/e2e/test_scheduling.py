"""Scheduling: each tenant's cron from the registry requests runs tagged with the tenant and trigger."""

from datetime import UTC, datetime

import dagster as dg

from oracle_mailchimp_dagster.defs.run_tags import TENANT_TAG
from oracle_mailchimp_dagster.defs.schedules import build_schedules
from tests.fixtures.sync import SyncHarness


def resources(h: SyncHarness) -> dict[str, object]:
    return dict(h.definitions().resources or {})


def test_one_schedule_per_tenant_from_the_registry(sync_harness: SyncHarness) -> None:
    h = sync_harness
    (schedule,) = build_schedules()
    assert schedule.name == "sync_acme_schedule"
    assert schedule.cron_schedule == "*/15 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    when = datetime(2026, 11, 26, 12, 15, tzinfo=UTC)
    context = dg.build_schedule_context(
        instance=h.instance, scheduled_execution_time=when, resources=resources(h)
    )
    request = schedule(context)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "acme"
    assert request.run_key == f"schedule:acme:{when.isoformat()}"
    assert request.tags[TENANT_TAG] == "acme"
