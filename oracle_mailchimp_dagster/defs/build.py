"""Assemble the connector's Dagster Definitions (resources replaceable for tests and deployments).

Each concern's module exports its definitions as lists (`ASSETS`, `JOBS`, `SENSORS`, `CHECKS`), so a
concern is added here in one line and the modules do not know about each other.
"""

import dagster as dg

from oracle_mailchimp_dagster.defs import alerts, audience, drift, scheduling
from oracle_mailchimp_dagster.defs.assets import fusion_customers, mailchimp_members, mailchimp_sync_results
from oracle_mailchimp_dagster.defs.jobs import tenant_sync_job
from oracle_mailchimp_dagster.defs.resources import (
    AppDatabase,
    FusionResource,
    MailchimpResource,
    SyncCheckThresholds,
)
from oracle_mailchimp_dagster.defs.sensors import oracle_change_sensor, tenant_registry_sensor


def default_resources() -> dict[str, object]:
    return {
        "app_db": AppDatabase(),
        "fusion": FusionResource(),
        "mailchimp": MailchimpResource(),
        "check_thresholds": SyncCheckThresholds(),
    }


def build_definitions(resources: dict[str, object] | None = None) -> dg.Definitions:
    """Everything; `resources` replaces any of the defaults by key (tests, other deployments)."""
    return dg.Definitions(
        assets=[
            fusion_customers,
            mailchimp_members,
            mailchimp_sync_results,
            *audience.ASSETS,
            *drift.ASSETS,
        ],
        asset_checks=[*alerts.CHECKS],
        jobs=[tenant_sync_job, *audience.JOBS, *drift.JOBS],
        schedules=[*scheduling.SCHEDULES],
        sensors=[
            tenant_registry_sensor,
            oracle_change_sensor,
            *scheduling.SENSORS,
            *audience.SENSORS,
            *drift.SENSORS,
            *alerts.SENSORS,
        ],
        resources={**default_resources(), **(resources or {})},
        executor=dg.in_process_executor,
    )
