"""What the alerts say (one line, the way to see more, no secret) and when an audience is stale."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracle_mailchimp_dagster.http.redaction import Redactor
from oracle_mailchimp_dagster.pipeline.alerts import (
    MAX_TEXT_CHARS,
    FailedRun,
    Staleness,
    dead_letters_alert,
    one_line,
    run_failed_alert,
    slack_payload,
    stale_alert,
)
from oracle_mailchimp_dagster.pipeline.alerts_freshness import freshness, stale_at
from oracle_mailchimp_dagster.store.alert_outbox import AlertKind
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET, config

WEBHOOK_URL = "https://hooks.slack.com/services/T0AAA0AAA/B0BBB0BBB/Zz9SeCrEtW3bh00kT0ken"
RUN_ID = "6f1c2d3e-0000-4000-8000-123456789abc"
REDACT = Redactor([ORACLE_SECRET, MAILCHIMP_KEY, WEBHOOK_URL])
SECRETS = (ORACLE_SECRET, MAILCHIMP_KEY, WEBHOOK_URL, "Zz9SeCrEtW3bh00kT0ken")


def test_a_failed_run_names_the_tenant_run_step_error_and_the_run_page_without_any_secret() -> None:
    error = (
        f"MailchimpConfigurationError: 401 for key {MAILCHIMP_KEY}\n  with secret {ORACLE_SECRET}"
        f" posting to {WEBHOOK_URL}"
    )
    run = FailedRun(RUN_ID, "tenant_sync_job", trigger="cli", step="mailchimp_members", error=error)
    alert = run_failed_alert(config(), run, REDACT)
    assert alert.event_key == f"run_failed:{RUN_ID}" and alert.kind is AlertKind.RUN_FAILED
    assert alert.text.startswith(
        "[oracle-mailchimp] tenant acme (Acme Corp): run 6f1c2d3e of tenant_sync_job (launched by cli) "
        "failed in step mailchimp_members: MailchimpConfigurationError: 401 for key **********"
    )
    assert alert.text.endswith(f"More: Dagster UI /runs/{RUN_ID}")
    assert "\n" not in alert.text
    for secret in SECRETS:
        assert secret not in alert.text and secret not in str(slack_payload(alert.text))


def test_dead_letters_give_the_count_and_the_audit_and_replay_commands() -> None:
    alert = dead_letters_alert(config(policy={"retry_max_attempts": 3}), RUN_ID, 2, REDACT)
    assert alert.event_key == f"dead_letters:{RUN_ID}"
    assert "2 records became dead letters in run 6f1c2d3e (still failing after 3 attempts" in alert.text
    assert f"oracle-mailchimp audit acme --run {RUN_ID}" in alert.text
    assert f"oracle-mailchimp sync acme --replay-run {RUN_ID} --failed-only" in alert.text
    assert "1 record became" in dead_letters_alert(config(), RUN_ID, 1, REDACT).text


def test_a_stale_audience_says_since_when_by_which_schedule_and_how_to_check() -> None:
    last = datetime(2026, 12, 2, 9, 1, tzinfo=UTC)
    stale = Staleness(last, last, datetime(2026, 12, 2, 10, 0, tzinfo=UTC), 3, "sync-42")
    alert = stale_alert(config(), stale, REDACT)
    assert alert.event_key == "stale:acme:sync-42"
    assert "not been refreshed since 2026-12-02 09:01:00 UTC (its last successful sync)" in alert.text
    assert "no successful sync in 3 schedule intervals of '*/15 * * * *' (UTC)" in alert.text
    assert "oracle-mailchimp tenants test acme" in alert.text
    never = stale_alert(config(), Staleness(last, None, last, 3, "registered-1"), REDACT)
    assert "no successful sync since it was registered at 2026-12-02 09:01:00 UTC" in never.text


@given(st.text(min_size=0, max_size=5000))
def test_one_line_is_one_bounded_line(text: str) -> None:
    line = one_line(text, MAX_TEXT_CHARS)
    assert len(line) <= MAX_TEXT_CHARS and not any(c in line for c in "\n\r\t\x0b\x0c")


def test_a_long_error_is_cut_and_the_whole_text_stays_bounded() -> None:
    run = FailedRun(RUN_ID, "tenant_sync_job", error="x" * 10_000)
    text = run_failed_alert(config(), run, REDACT).text
    assert len(text) <= MAX_TEXT_CHARS and "x" * 299 + "…" in text and text.endswith(RUN_ID)


@pytest.mark.parametrize(
    ("last", "stale_from"),
    [
        # Synced at 10:01 (the 10:00 interval's run): the 10:15, 10:30 and 10:45 intervals end at 11:00.
        (datetime(2026, 12, 2, 10, 1, tzinfo=UTC), datetime(2026, 12, 2, 11, 0, tzinfo=UTC)),
        # Exactly on a tick: that tick's interval had its run.
        (datetime(2026, 12, 2, 10, 0, tzinfo=UTC), datetime(2026, 12, 2, 11, 0, tzinfo=UTC)),
        (datetime(2026, 12, 2, 10, 14, 59, tzinfo=UTC), datetime(2026, 12, 2, 11, 0, tzinfo=UTC)),
    ],
)
def test_every_15_minutes_goes_stale_after_three_whole_intervals(
    last: datetime, stale_from: datetime
) -> None:
    assert stale_at("*/15 * * * *", "UTC", last) == stale_from
    before = freshness(
        "*/15 * * * *", "UTC", last_sync=last, registered_at=last, now=stale_from - timedelta(seconds=1)
    )
    after = freshness("*/15 * * * *", "UTC", last_sync=last, registered_at=last, now=stale_from)
    assert (before.stale, after.stale) == (False, True)


def test_a_daily_schedule_counts_days_in_its_own_time_zone_across_dst() -> None:
    # 06:00 Paris every day; synced Friday 2026-03-27 06:05 local. DST starts Sunday 03-29.
    last = datetime(2026, 3, 27, 5, 5, tzinfo=UTC)  # 06:05 CET
    deadline = stale_at("0 6 * * *", "Europe/Paris", last)
    assert deadline.astimezone(UTC) == datetime(2026, 3, 31, 4, 0, tzinfo=UTC)  # Tuesday 06:00 CEST


def test_a_tenant_never_synced_is_judged_from_its_registration_and_old_syncs_do_not_count() -> None:
    registered = datetime(2026, 12, 2, 10, 7, tzinfo=UTC)
    now = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    assert freshness("*/15 * * * *", "UTC", last_sync=None, registered_at=registered, now=now).stale
    # A sync from before the tenant was registered again under this id does not make it fresh longer.
    older = datetime(2026, 1, 1, tzinfo=UTC)
    verdict = freshness("*/15 * * * *", "UTC", last_sync=older, registered_at=registered, now=now)
    assert verdict.reference == registered and verdict.stale
    assert not freshness(
        "*/15 * * * *",
        "UTC",
        last_sync=None,
        registered_at=registered,
        now=registered + timedelta(minutes=30),
    ).stale
