"""The drift asset, its check and its weekly schedule on a real instance after a real sync."""

from datetime import UTC, datetime
from typing import Any

import dagster as dg
import requests

from oracle_mailchimp_dagster.defs.drift import RECONCILE_SENSOR, build_reconcile_schedule_sensor
from oracle_mailchimp_dagster.defs.run_tags import TENANT_TAG, TRIGGER_TAG
from tests.fixtures.sync import SyncHarness


def drift_run(h: SyncHarness, repair: bool = False) -> dg.ExecuteInProcessResult:
    job = h.definitions().resolve_job_def("audience_drift_job")
    config = {"ops": {"mailchimp_audience_drift": {"config": {"repair": repair}}}}
    return job.execute_in_process(instance=h.instance, partition_key="acme", run_config=config)


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [event] = result.asset_materializations_for_node("mailchimp_audience_drift")
    return {key: getattr(value, "value", value) for key, value in event.metadata.items()}


def edit_first_member(h: SyncHarness) -> tuple[str, str]:
    state = next(s for s in h.store.members.iter_tenant("acme") if s.payload_hash and s.merge_fields)
    field = sorted(state.merge_fields or {})[0]
    url = f"{h.mailchimp.api_base}/lists/{h.mailchimp.config.list_id}/members/{state.subscriber_hash}"
    auth = ("person", h.mailchimp.config.api_key)
    response = requests.patch(url, json={"merge_fields": {field: "Edited"}}, auth=auth, timeout=30)
    assert response.status_code == 200, response.text
    return state.email or "", field


def test_the_asset_reports_drift_with_its_check_and_repairs_on_request(sync_harness: SyncHarness) -> None:
    h = sync_harness
    assert h.run().success
    email, _field = edit_first_member(h)

    found = drift_run(h)
    assert found.success
    values = metadata(found)
    assert values["stale_merge_fields"] == 1 and values["missing_member"] == 0
    assert values["managed_members"] > 200 and values["requests"] >= 2
    assert values["repair"] is False
    sample = values["sample"]
    assert [(r.data["class"], r.data["email"]) for r in sample.records] == [("stale_merge_fields", email)]
    [check] = found.get_asset_check_evaluations()
    assert check.check_name == "drift_rate" and check.passed  # 1 of ~250 is under the 1% default
    assert "tenant acme" in (check.description or "")

    repaired = drift_run(h, repair=True)
    assert metadata(repaired)["repairs"] == {"updated": 1}
    assert metadata(drift_run(h))["stale_merge_fields"] == 0


def test_the_weekly_schedule_requests_the_drift_job_once_per_tick(sync_harness: SyncHarness) -> None:
    h = sync_harness
    resources = dict(h.definitions().resources or {})

    def evaluate(now: datetime, cursor: str | None) -> dg.SensorResult:
        sensor = build_reconcile_schedule_sensor(lambda: now)
        assert sensor.name == RECONCILE_SENSOR and sensor.job_name == "audience_drift_job"
        context = dg.build_sensor_context(instance=h.instance, cursor=cursor, resources=resources)
        result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        return result

    sunday = evaluate(datetime(2026, 11, 29, 23, 0, tzinfo=UTC), None)
    assert not sunday.run_requests
    monday = evaluate(datetime(2026, 11, 30, 6, 0, 30, tzinfo=UTC), sunday.cursor)
    [request] = monday.run_requests or []
    assert request.partition_key == "acme"
    assert request.tags[TENANT_TAG] == "acme" and request.tags[TRIGGER_TAG] == "schedule"
    later = evaluate(datetime(2026, 11, 30, 6, 5, tzinfo=UTC), monday.cursor)
    assert not later.run_requests  # the tick runs once
