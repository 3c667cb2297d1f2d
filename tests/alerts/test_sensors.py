"""The alert sensors on a real Dagster instance, real sandboxes and a real webhook receiver: a failed run,
new dead letters and a stale audience each reach the tenant's webhook once, and never a secret."""

import logging
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from oracle_mailchimp_dagster.defs import alerts
from oracle_mailchimp_dagster.defs.alerts import (
    CHECK_NAME,
    FreshnessCursor,
    RunAlertsCursor,
    alert_delivery_sensor,
    audience_freshness_sensor,
    failed_run,
    tenant_run_alerts_sensor,
)
from oracle_mailchimp_dagster.defs.run_tags import TENANT_TAG
from oracle_mailchimp_dagster.http.redaction import Redactor
from oracle_mailchimp_dagster.store.alert_outbox import AlertKind, AlertOutbox, OutboxEntry
from oracle_mailchimp_dagster.store.records import SecretName
from oracle_mailchimp_dagster.store.schema import tenants
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry
from tests.alerts.webhook_receiver import WEBHOOK_TOKEN, WebhookReceiver
from tests.fixtures.sync import SyncHarness
from tests.support.scenario import sole_holders
from tests.support.tenant_samples import MAILCHIMP_KEY


def resources(h: SyncHarness) -> dict[str, object]:
    return dict(h.definitions().resources or {})


def tick(sensor: dg.SensorDefinition, h: SyncHarness, cursor: str | None = None) -> dg.SensorResult:
    result = sensor(dg.build_sensor_context(instance=h.instance, cursor=cursor, resources=resources(h)))
    assert isinstance(result, dg.SensorResult), result
    return result


def deliver(h: SyncHarness) -> str:
    skipped = alert_delivery_sensor(dg.build_sensor_context(instance=h.instance, resources=resources(h)))
    assert isinstance(skipped, dg.SkipReason)
    return str(skipped.skip_message)


def with_webhook(h: SyncHarness, url: str, **changes: object) -> None:
    tenant = h.registry.get(h.tenant_id)
    h.registry.update(tenant.model_copy(update=changes), {SecretName.ALERT_WEBHOOK_URL: SecretStr(url)})


def secrets_of(h: SyncHarness) -> list[str]:
    return [h.fusion.config.client_secret.get_secret_value(), h.mailchimp.config.api_key, WEBHOOK_TOKEN]


def outbox(h: SyncHarness) -> list[OutboxEntry]:
    return list(AlertOutbox(h.db).entries(h.tenant_id))


def test_a_failed_run_is_alerted_once_with_no_secret(
    sync_harness: SyncHarness, webhook: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    h = sync_harness
    caplog.set_level(logging.DEBUG)
    mailchimp = h.registry.get(h.tenant_id).mailchimp.model_copy(update={"list_id": "nolist0000"})
    with_webhook(h, webhook.url, mailchimp=mailchimp)
    result = h.run()
    assert not result.success

    first = tick(tenant_run_alerts_sensor, h)
    (entry,) = outbox(h)
    assert entry.event_key == f"run_failed:{result.run_id}" and entry.kind is AlertKind.RUN_FAILED
    assert f"run {result.run_id[:8]} of tenant_sync_job failed in step mailchimp_members: " in entry.text
    assert "nolist0000" in entry.text and entry.text.endswith(f"Dagster UI /runs/{result.run_id}")
    cursor = RunAlertsCursor.model_validate_json(first.cursor or "")
    assert result.run_id in cursor.seen
    tick(tenant_run_alerts_sensor, h, first.cursor)
    tick(tenant_run_alerts_sensor, h)  # a lost cursor looks back again: the event key keeps it one alert
    assert len(outbox(h)) == 1

    assert deliver(h) == "delivered 1, failed 0, postponed 0"
    assert deliver(h) == "delivered 0, failed 0, postponed 0"
    (post,) = webhook.posts()
    assert post.path.endswith(WEBHOOK_TOKEN)
    assert set(post.json()) == {"text"} and result.run_id in post.json()["text"]
    for secret in secrets_of(h):
        assert secret not in post.body.decode() and secret not in caplog.text


def test_new_dead_letters_are_one_alert_per_run_with_the_count(
    sync_harness: SyncHarness, webhook: WebhookReceiver
) -> None:
    h = sync_harness
    policy = h.registry.get(h.tenant_id).policy.model_copy(update={"retry_max_attempts": 1})
    with_webhook(h, webhook.url, policy=policy)
    busy = [c["EmailAddress"].strip().lower() for c in sole_holders(h.customers(), 2)]
    h.mailchimp_control("PATCH", "/switches", json={"signup_velocity_emails": busy})
    result = h.run()
    assert result.success
    assert h.store.ledger.outcome_counts(h.tenant_id, result.run_id)["dead_letter"] == 2

    again = tick(tenant_run_alerts_sensor, h)
    tick(tenant_run_alerts_sensor, h, again.cursor)
    (entry,) = outbox(h)
    assert entry.event_key == f"dead_letters:{result.run_id}"
    assert "2 records became dead letters" in entry.text
    assert f"oracle-mailchimp audit acme --run {result.run_id}" in entry.text
    assert deliver(h).startswith("delivered 1,")
    deliver(h)
    (post,) = webhook.posts()
    assert "2 records became dead letters" in post.json()["text"]
    for secret in secrets_of(h):
        assert secret not in post.body.decode()


def test_a_stale_audience_is_alerted_once_and_fails_its_partition_check(
    sync_harness: SyncHarness, webhook: WebhookReceiver
) -> None:
    h = sync_harness
    with_webhook(h, webhook.url)
    registered = datetime.now(UTC) - timedelta(hours=2)
    with h.db.write() as conn:
        conn.execute(sa.update(tenants).where(tenants.c.id == h.tenant_id).values(created_at=registered))
    dry = h.run(dry_run=True)  # a dry run refreshes nothing: the audience stays stale
    (dry_check,) = [c for c in dry.get_asset_check_evaluations() if c.check_name == CHECK_NAME]
    assert dry.success and (dry_check.partition, dry_check.passed) == ("acme", False)

    first = tick(audience_freshness_sensor, h)
    (evaluation,) = first.asset_events
    assert isinstance(evaluation, dg.AssetCheckEvaluation)
    assert (evaluation.check_name, evaluation.partition, evaluation.passed) == (CHECK_NAME, "acme", False)
    assert evaluation.metadata["cron"].value == "*/15 * * * *"
    (entry,) = outbox(h)
    assert entry.event_key == f"stale:acme:registered-{registered.timestamp():.0f}"
    assert "no successful sync since it was registered" in entry.text
    assert FreshnessCursor.model_validate_json(first.cursor or "").reported == {"acme": entry.event_key[11:]}
    h.instance.report_runless_asset_event(evaluation)  # as the daemon records a tick's asset events
    check_key = dg.AssetCheckKey(alerts.RESULTS_KEY, CHECK_NAME)
    (info,) = h.instance.event_log_storage.get_asset_check_partition_info([check_key])
    assert (info.partition_key, info.latest_execution_status.value) == ("acme", "FAILED")
    second = tick(audience_freshness_sensor, h, first.cursor)
    assert second.asset_events == [] and len(outbox(h)) == 1

    assert deliver(h).startswith("delivered 1,")
    deliver(h)
    assert len(webhook.posts()) == 1
    for secret in secrets_of(h):
        assert secret not in webhook.posts()[0].body.decode()

    synced = h.run()
    assert synced.success
    (check,) = [c for c in synced.get_asset_check_evaluations() if c.check_name == CHECK_NAME]
    assert (check.partition, check.passed) == ("acme", True)
    fresh = tick(audience_freshness_sensor, h, second.cursor)
    assert fresh.asset_events == [] and len(outbox(h)) == 1
    assert FreshnessCursor.model_validate_json(fresh.cursor or "").reported == {}


def test_one_tenant_s_failure_does_not_stop_the_others(
    sync_harness: SyncHarness, webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = sync_harness
    acme = h.registry.get(h.tenant_id)
    broken_list = acme.mailchimp.model_copy(update={"list_id": "nolist0000"})
    with_webhook(h, webhook.url, mailchimp=broken_list)
    h.registry.add(
        acme.model_copy(update={"id": "globex", "display_name": "Globex", "mailchimp": broken_list}),
        {
            SecretName.ORACLE_CLIENT_SECRET: h.fusion.config.client_secret,
            SecretName.MAILCHIMP_API_KEY: SecretStr(h.mailchimp.config.api_key),
            SecretName.ALERT_WEBHOOK_URL: SecretStr(webhook.url),
        },
    )
    h.instance.add_dynamic_partitions("tenants", ["globex"])
    acme_run = h.run()
    h.tenant_id = "globex"
    globex_run = h.run()
    assert not acme_run.success and not globex_run.success
    real_redactor = alerts.tenant_redactor

    def acme_breaks(registry: TenantRegistry, tenant: TenantConfig) -> Redactor:
        if tenant.id == "acme":
            raise RuntimeError("the database went away for acme")
        return real_redactor(registry, tenant)

    monkeypatch.setattr(alerts, "tenant_redactor", acme_breaks)
    first = tick(tenant_run_alerts_sensor, h)
    assert [e.event_key for e in AlertOutbox(h.db).entries()] == [f"run_failed:{globex_run.run_id}"]
    assert acme_run.run_id not in RunAlertsCursor.model_validate_json(first.cursor or "").seen

    monkeypatch.setattr(alerts, "tenant_redactor", real_redactor)
    tick(tenant_run_alerts_sensor, h, first.cursor)  # acme's run is tried again on the next tick
    assert sorted(e.event_key for e in AlertOutbox(h.db).entries()) == sorted(
        [f"run_failed:{globex_run.run_id}", f"run_failed:{acme_run.run_id}"]
    )


def test_a_run_failing_with_an_exception_is_described_by_its_innermost_error() -> None:
    @dg.op
    def explode() -> None:
        try:
            raise ConnectionError("pool closed")
        except ConnectionError as exc:
            raise ValueError(f"key {MAILCHIMP_KEY} refused by 127.0.0.1") from exc

    @dg.job
    def failing() -> None:
        explode()

    with dg.instance_for_test() as instance:
        result = failing.execute_in_process(
            instance=instance, raise_on_error=False, tags={TENANT_TAG: "acme"}
        )
        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        failed = failed_run(instance, run)
    assert (failed.job_name, failed.step, failed.trigger) == ("failing", "explode", None)
    assert failed.error == "ConnectionError: pool closed"
    assert alerts.run_tenant(dict(run.tags)) == "acme"
    assert alerts.run_tenant({"dagster/partition": "globex"}) == "globex"
