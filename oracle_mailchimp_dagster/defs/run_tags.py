"""Run tags: who a run is for and why it ran. dagster.yaml's concurrency limits key on them (one run
per tenant, per Mailchimp key), and the UI filters runs by them."""

from enum import StrEnum

from oracle_mailchimp_dagster.sync.identity import credential_fingerprint

TENANT_TAG = "oracle_mailchimp/tenant"
MAILCHIMP_KEY_TAG = "oracle_mailchimp/mailchimp_key"
TRIGGER_TAG = "oracle_mailchimp/trigger"


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
