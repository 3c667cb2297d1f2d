"""Run tags: who a run is for and why it ran. dagster.yaml's concurrency limits key on them (one run
per tenant, per Mailchimp key), and the UI filters runs by them.

Every launch path sets them: the scheduling and change sensors and the CLI here, with `run_tags`;
the UI's Materialize button, re-executions and backfills at submission, by the run coordinator
(`defs/run_coordinator.py`), before the run is queued.
"""

from enum import StrEnum

from oracle_mailchimp_dagster.sync.identity import credential_fingerprint

TENANT_TAG = "oracle_mailchimp/tenant"
MAILCHIMP_KEY_TAG = "oracle_mailchimp/mailchimp_key"
TRIGGER_TAG = "oracle_mailchimp/trigger"
# The cron tick a scheduled run is for, in the tenant's time zone (ISO 8601 with its offset).
SCHEDULED_FOR_TAG = "oracle_mailchimp/scheduled_for"
# Dagster's own tag of a partitioned run: the tenant, for runs of the tenant-partitioned assets.
PARTITION_TAG = "dagster/partition"


class Trigger(StrEnum):
    """Why a run was launched."""

    SCHEDULE = "schedule"  # the tenant's cron came due (the scheduling sensor)
    ORACLE_CHANGE = "oracle_change"  # Oracle has customers after the mark (the change sensor)
    AUDIENCE_EVENTS = "audience_events"  # the periodic read of Mailchimp unsubscribes and cleaned
    CLI = "cli"  # `oracle-mailchimp sync` or the demo
    UI = "ui"  # the UI's Materialize button, a re-execution or a backfill (tagged on submission)


def run_tags(tenant_id: str, mailchimp_secret: str, trigger: Trigger) -> dict[str, str]:
    return {
        TENANT_TAG: tenant_id,
        MAILCHIMP_KEY_TAG: credential_fingerprint(mailchimp_secret),
        TRIGGER_TAG: trigger.value,
    }
