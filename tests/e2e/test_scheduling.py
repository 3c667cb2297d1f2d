"""The scheduling sensor on a real instance and app database, with the time under the test's control:
each tenant's cron in its zone, read from the registry at every evaluation, one run per due tick."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import dagster as dg
import pytest
from dagster._core.remote_origin import (
    InProcessCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.test_utils import create_run_for_test
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from pydantic import SecretStr

from oracle_mailchimp_dagster.defs.jobs import tenant_sync_job
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.run_tags import (
    MAILCHIMP_KEY_TAG,
    SCHEDULED_FOR_TAG,
    TENANT_TAG,
    TRIGGER_TAG,
)
from oracle_mailchimp_dagster.defs.schedule_ticks import ScheduleCursor
from oracle_mailchimp_dagster.defs.scheduling import (
    SCHEDULES,
    SENSOR_NAME,
    SENSORS,
    build_tenant_schedule_sensor,
)
from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.store import tenant_rows as rows
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint
from oracle_mailchimp_dagster.tenants.model import Schedule
from tests.fixtures.sync import SyncHarness

DAY = (2026, 11, 26)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(*DAY, hour, minute, second, tzinfo=UTC)


Evaluate = Callable[[datetime, str | None], dg.SensorResult]


@pytest.fixture
def evaluate(sync_harness: SyncHarness) -> Evaluate:
    """One evaluation of the scheduling sensor at `now`, from `cursor`, on the harness's instance."""
    h = sync_harness

    def run(now: datetime, cursor: str | None) -> dg.SensorResult:
        sensor = build_tenant_schedule_sensor(lambda: now)
        resources = dict(h.definitions().resources or {})
        context = dg.build_sensor_context(instance=h.instance, cursor=cursor, resources=resources)
        result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        return result

    return run


def keys(result: dg.SensorResult) -> list[str]:
    return [r.run_key or "" for r in result.run_requests or []]


def skip(result: dg.SensorResult) -> str:
    assert not result.run_requests
    assert result.skip_reason is not None
    return result.skip_reason.skip_message or ""


def cursor_of(result: dg.SensorResult) -> ScheduleCursor:
    return ScheduleCursor.model_validate_json(result.cursor or "")


def set_schedule(h: SyncHarness, tenant_id: str, cron: str, timezone: str = "UTC") -> None:
    tenant = h.registry.get(tenant_id)
    h.registry.update(tenant.model_copy(update={"schedule": Schedule(cron=cron, timezone=timezone)}))


def set_enabled(h: SyncHarness, tenant_id: str, enabled: bool) -> None:
    h.registry.update(h.registry.get(tenant_id).model_copy(update={"enabled": enabled}))


def add_tenant(h: SyncHarness, tenant_id: str) -> None:
    h.registry.add(
        h.registry.get("acme").model_copy(update={"id": tenant_id, "display_name": tenant_id}),
        {
            SecretName.ORACLE_CLIENT_SECRET: h.fusion.config.client_secret,
            SecretName.MAILCHIMP_API_KEY: SecretStr(h.mailchimp.config.api_key),
        },
    )


def test_the_definitions_schedule_with_one_sensor_and_no_schedules() -> None:
    assert SCHEDULES == []  # nothing is built from the registry when the definitions load
    (sensor,) = SENSORS
    assert sensor.name == SENSOR_NAME
    assert sensor.minimum_interval_seconds == 30
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == tenant_sync_job.name


def test_a_due_tick_requests_one_run_with_its_tags_and_only_once(
    sync_harness: SyncHarness, evaluate: Evaluate
) -> None:
    h = sync_harness  # acme: '*/15 * * * *' UTC
    first = evaluate(at(12, 7), None)
    assert "Next: acme at 2026-11-26T12:15+00:00" in skip(first)
    assert cursor_of(first).tenants["acme"].evaluated_until == at(12, 7)

    due = evaluate(at(12, 15, 5), first.cursor)
    (request,) = due.run_requests or []
    assert request.run_key == "schedule:acme:2026-11-26T12:15:00+00:00"
    assert request.partition_key == "acme"
    assert request.tags == {
        TENANT_TAG: "acme",
        MAILCHIMP_KEY_TAG: credential_fingerprint(h.mailchimp.config.api_key),
        TRIGGER_TAG: "schedule",
        SCHEDULED_FOR_TAG: "2026-11-26T12:15:00+00:00",
    }
    assert h.mailchimp.config.api_key not in str(request.tags)
    assert not due.dynamic_partitions_requests  # acme's partition exists
    assert cursor_of(due).tenants["acme"].last_requested == at(12, 15)

    # The same tick is requested once: the next evaluation finds nothing; evaluating the tick again
    # from the older cursor (a tick whose cursor was not saved) gives the same run key, which
    # Dagster launches once.
    assert "Next: acme at 2026-11-26T12:30+00:00" in skip(evaluate(at(12, 15, 35), due.cursor))
    assert keys(evaluate(at(12, 15, 40), first.cursor)) == [request.run_key]


def test_a_changed_cron_or_time_zone_takes_effect_at_the_next_evaluation(
    sync_harness: SyncHarness, evaluate: Evaluate
) -> None:
    h = sync_harness
    first = evaluate(at(12, 7), None)
    set_schedule(h, "acme", "*/5 * * * *", "Europe/Paris")
    changed = evaluate(at(12, 10, 5), first.cursor)  # 13:10 in Paris: due under the new cron only
    assert keys(changed) == ["schedule:acme:2026-11-26T13:10:00+01:00"]
    assert cursor_of(changed).tenants["acme"].schedule == "'*/5 * * * *' Europe/Paris"

    set_schedule(h, "acme", "0 13 * * *", "America/New_York")
    later = evaluate(at(12, 10, 35), changed.cursor)
    assert "Next: acme at 2026-11-26T13:00-05:00" in skip(later)
    assert keys(evaluate(at(18, 0, 10), later.cursor)) == ["schedule:acme:2026-11-26T13:00:00-05:00"]


def test_a_disabled_tenant_gets_nothing_and_resumes_without_catching_up(
    sync_harness: SyncHarness, evaluate: Evaluate
) -> None:
    h = sync_harness
    first = evaluate(at(12, 7), None)
    set_enabled(h, "acme", False)
    disabled = evaluate(at(12, 15, 5), first.cursor)
    assert "0 tenant(s) scheduled" in skip(disabled)
    assert cursor_of(disabled).tenants == {}

    set_enabled(h, "acme", True)  # the 12:15 tick passed while disabled: not requested now
    enabled = evaluate(at(12, 29), disabled.cursor)
    assert "Next: acme at 2026-11-26T12:30+00:00" in skip(enabled)
    assert keys(evaluate(at(12, 30, 2), enabled.cursor)) == ["schedule:acme:2026-11-26T12:30:00+00:00"]


def test_one_tenant_with_a_broken_record_does_not_stop_the_others(
    sync_harness: SyncHarness, evaluate: Evaluate, capsys: pytest.CaptureFixture[str]
) -> None:
    h = sync_harness
    add_tenant(h, "globex")
    add_tenant(h, "initech")
    with h.registry.db.write() as conn:
        (secret,) = [s for s in rows.select_secrets(conn, "acme") if s.name == SecretName.MAILCHIMP_API_KEY]
        # acme's key names a master key this deployment does not hold: it cannot be decrypted.
        rows.put_secret(
            conn, "acme", secret.name, ciphertext=secret.ciphertext, key_id="0" * 8, now=at(12, 0)
        )
        # initech's stored settings no longer validate (edited in the database, an older version).
        stored = rows.get_tenant(conn, "initech")
        rows.update_tenant(
            conn,
            "initech",
            display_name=stored.display_name,
            config={**stored.config, "schedule": {"cron": "every minute"}},
            enabled=True,
            now=at(12, 0),
        )

    first = evaluate(at(12, 7), None)
    assert "Cannot schedule initech" in skip(first)
    due = evaluate(at(12, 15, 5), first.cursor)
    assert keys(due) == ["schedule:globex:2026-11-26T12:15:00+00:00"]
    # globex has no partition yet (the registry sensor has not run): it is added with the request.
    (added,) = due.dynamic_partitions_requests or []
    assert isinstance(added, dg.AddDynamicPartitionsRequest)
    assert (added.partitions_def_name, list(added.partition_keys)) == (TENANTS, ["globex"])

    log = capsys.readouterr().err
    assert "acme: cannot schedule: cannot decrypt mailchimp_api_key of tenant 'acme'" in log
    assert "oracle-mailchimp tenants update acme --mailchimp-api-key-env VAR" in log
    assert "initech: cannot schedule: invalid stored tenant 'initech': schedule.cron:" in log
    assert "`oracle-mailchimp tenants import FILE.yaml` (an entry for initech, " in log
    assert h.mailchimp.config.api_key.partition("-")[0] not in log
    # acme's entry stays where it was, so its missed tick is requested (once) when it is fixed.
    assert cursor_of(due).tenants["acme"].evaluated_until == at(12, 7)
    assert "initech" not in cursor_of(due).tenants

    h.registry.update(
        h.registry.get("acme"), {SecretName.MAILCHIMP_API_KEY: SecretStr(h.mailchimp.config.api_key)}
    )
    assert keys(evaluate(at(12, 15, 40), due.cursor)) == ["schedule:acme:2026-11-26T12:15:00+00:00"]


def test_after_downtime_only_the_latest_missed_tick_is_requested(
    sync_harness: SyncHarness, evaluate: Evaluate, capsys: pytest.CaptureFixture[str]
) -> None:
    first = evaluate(at(12, 7), None)
    capsys.readouterr()
    back = evaluate(at(15, 40), first.cursor)  # 14 ticks passed (12:15 ... 15:30)
    assert keys(back) == ["schedule:acme:2026-11-26T15:30:00+00:00"]
    assert (
        "acme: 13 earlier due tick(s) since 2026-11-26T12:07+00:00 not requested (no catch-up after "
        "downtime): only the latest, 2026-11-26T15:30+00:00"
    ) in capsys.readouterr().err


def queued_scheduled_run(h: SyncHarness, tags: Mapping[str, str]) -> str:
    origin = RemoteJobOrigin(
        RemoteRepositoryOrigin(
            InProcessCodeLocationOrigin(
                LoadableTargetOrigin(module_name="oracle_mailchimp_dagster.definitions")
            ),
            "__repository__",
        ),
        tenant_sync_job.name,
    )
    run = create_run_for_test(
        h.instance,
        job_name=tenant_sync_job.name,
        tags=tags,
        status=dg.DagsterRunStatus.QUEUED,
        remote_job_origin=origin,
    )
    return run.run_id


def test_no_second_scheduled_run_is_requested_while_one_still_waits_in_the_queue(
    sync_harness: SyncHarness, evaluate: Evaluate, capsys: pytest.CaptureFixture[str]
) -> None:
    h = sync_harness
    first = evaluate(at(12, 7), None)
    due = evaluate(at(12, 15, 5), first.cursor)
    (request,) = due.run_requests or []
    run_id = queued_scheduled_run(h, request.tags)

    waiting = evaluate(at(12, 30, 5), due.cursor)
    assert not waiting.run_requests
    assert f"its scheduled run {run_id} is still queued" in capsys.readouterr().err

    h.instance.delete_run(run_id)
    assert keys(evaluate(at(12, 45, 5), waiting.cursor)) == ["schedule:acme:2026-11-26T12:45:00+00:00"]
