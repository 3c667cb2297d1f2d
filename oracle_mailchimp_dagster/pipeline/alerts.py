"""What an alert says, built from plain facts: one line, redacted, bounded, with the way to see more.

Pure: the producers (Dagster sensors, `defs.alerts`) find the facts and the outbox stores the event.
Every text passes the caller's redactor (the tenant's credentials and webhook URL in every encoding, and
anything credential-shaped, see `http.redaction`) after it is assembled, so a secret that reached an
error message stops here; the webhook receives nothing else.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from oracle_mailchimp_dagster.store.alert_outbox import AlertEvent, AlertKind
from oracle_mailchimp_dagster.tenants.model import TenantConfig

Redact = Callable[[str], str]

PREFIX = "[oracle-mailchimp]"
MAX_TEXT_CHARS = 1_000
MAX_ERROR_CHARS = 300
SHORT_RUN_ID = 8
RESULTS_ASSET_PATH = "/assets/mailchimp_sync_results"


def one_line(text: str, limit: int) -> str:
    """`text` on one line (whitespace collapsed), cut after `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def tenant_label(tenant: TenantConfig) -> str:
    """`tenant acme (Acme Corp)`, or `tenant acme` when the name is the id."""
    named = tenant.display_name and tenant.display_name != tenant.id
    return f"tenant {tenant.id} ({tenant.display_name})" if named else f"tenant {tenant.id}"


def _event(tenant: TenantConfig, key: str, kind: AlertKind, text: str, redact: Redact) -> AlertEvent:
    """The event with its text redacted (after assembly, so a secret split across parts is caught
    too) and cut to one bounded line."""
    return AlertEvent(tenant.id, key, kind, one_line(redact(f"{PREFIX} {text}"), MAX_TEXT_CHARS))


@dataclass(frozen=True)
class FailedRun:
    """A tenant's run that failed: where it failed and why (the first failed step's error, if any)."""

    run_id: str
    job_name: str
    trigger: str | None = None
    step: str | None = None
    error: str | None = None


def run_failed_alert(tenant: TenantConfig, run: FailedRun, redact: Redact) -> AlertEvent:
    """One alert per failed run (event key: the run id)."""
    launched = f" (launched by {run.trigger})" if run.trigger else ""
    where = f" in step {run.step}" if run.step else ""
    error = one_line(redact(run.error), MAX_ERROR_CHARS) if run.error else "no error was recorded"
    text = (
        f"{tenant_label(tenant)}: run {run.run_id[:SHORT_RUN_ID]} of {run.job_name}{launched} failed"
        f"{where}: {error}. More: Dagster UI /runs/{run.run_id}"
    )
    return _event(tenant, f"{AlertKind.RUN_FAILED.value}:{run.run_id}", AlertKind.RUN_FAILED, text, redact)


def dead_letters_alert(tenant: TenantConfig, run_id: str, count: int, redact: Redact) -> AlertEvent:
    """One alert per run that turned records into dead letters, with how many."""
    records = "1 record" if count == 1 else f"{count} records"
    attempts = tenant.policy.retry_max_attempts
    text = (
        f"{tenant_label(tenant)}: {records} became dead letters in run {run_id[:SHORT_RUN_ID]} "
        f"(still failing after {attempts} attempts; they are not retried any more). "
        f"See them: oracle-mailchimp audit {tenant.id} --run {run_id}; "
        f"retry them: oracle-mailchimp sync {tenant.id} --replay-run {run_id} --failed-only"
    )
    return _event(tenant, f"{AlertKind.DEAD_LETTERS.value}:{run_id}", AlertKind.DEAD_LETTERS, text, redact)


@dataclass(frozen=True)
class Staleness:
    """A tenant whose audience is stale: since when, by which schedule, and the episode's name.

    `last_sync` None: never synced since `since` (when it was registered). `episode` names this stale
    spell (the last sync's event, or the registration), so it is reported once until a sync succeeds.
    """

    since: datetime
    last_sync: datetime | None
    became_stale_at: datetime
    intervals: int
    episode: str


def stale_alert(tenant: TenantConfig, stale: Staleness, redact: Redact) -> AlertEvent:
    """One alert per stale spell of a tenant (event key: the tenant and the spell)."""
    schedule = f"'{tenant.schedule.cron}' ({tenant.schedule.timezone})"
    if stale.last_sync is None:
        what = f"has had no successful sync since it was registered at {_when(stale.since)}"
    else:
        what = f"has not been refreshed since {_when(stale.last_sync)} (its last successful sync)"
    text = (
        f"{tenant_label(tenant)}: the Mailchimp audience {what}: no successful sync in "
        f"{stale.intervals} schedule intervals of {schedule}, stale since {_when(stale.became_stale_at)}. "
        f"Check: oracle-mailchimp tenants test {tenant.id}; Dagster UI {RESULTS_ASSET_PATH} "
        f"(partition {tenant.id}, runs tagged oracle_mailchimp/tenant={tenant.id})"
    )
    key = f"{AlertKind.STALE.value}:{tenant.id}:{stale.episode}"
    return _event(tenant, key, AlertKind.STALE, text, redact)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def slack_payload(text: str) -> dict[str, str]:
    """The JSON body of a Slack incoming webhook (and compatible services): `text` only.

    Slack reads `<...>` as links and mentions, so `&`, `<` and `>` are escaped as its docs ask.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {"text": escaped}
