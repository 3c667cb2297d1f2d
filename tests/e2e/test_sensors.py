"""Sensors request the right runs and keep their typed cursors (against real services)."""

import dagster as dg
from pydantic import SecretStr

from oracle_mailchimp_dagster.defs.cursors import OracleChangeCursor
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.run_tags import MAILCHIMP_KEY_TAG, TENANT_TAG
from oracle_mailchimp_dagster.defs.sensors import oracle_change_sensor, tenant_registry_sensor
from oracle_mailchimp_dagster.store.records import SecretName
from tests.fixtures.sync import SyncHarness
from tests.support.scenario import sole_holders


def resources(h: SyncHarness) -> dict[str, object]:
    return dict(h.definitions().resources or {})


def test_registry_sensor_adds_and_removes_partitions(sync_harness: SyncHarness) -> None:
    h = sync_harness
    globex = h.registry.get("acme").model_copy(update={"id": "globex"})
    h.registry.add(
        globex,
        {
            SecretName.ORACLE_CLIENT_SECRET: h.fusion.config.client_secret,
            SecretName.MAILCHIMP_API_KEY: SecretStr(h.mailchimp.config.api_key),
        },
    )
    h.instance.add_dynamic_partitions(TENANTS, ["ghost"])
    context = dg.build_sensor_context(instance=h.instance, resources=resources(h))
    result = tenant_registry_sensor(context)
    assert isinstance(result, dg.SensorResult)
    requests = {type(r).__name__: list(r.partition_keys) for r in result.dynamic_partitions_requests or []}
    assert requests == {
        "AddDynamicPartitionsRequest": ["globex"],
        "DeleteDynamicPartitionsRequest": ["ghost"],
    }


def test_oracle_change_sensor_requests_a_run_only_when_oracle_changed(sync_harness: SyncHarness) -> None:
    h = sync_harness

    def tick(cursor: str | None) -> dg.SensorResult:
        context = dg.build_sensor_context(instance=h.instance, cursor=cursor, resources=resources(h))
        result = oracle_change_sensor(context)
        assert isinstance(result, dg.SensorResult)
        return result

    first = tick(None)
    assert [r.run_key for r in first.run_requests or []] == ["oracle-change:acme:initial"]
    request = (first.run_requests or [])[0]
    assert request.partition_key == "acme"
    assert request.tags[TENANT_TAG] == "acme"
    assert h.mailchimp.config.api_key not in str(request.tags) and len(request.tags[MAILCHIMP_KEY_TAG]) == 16
    assert OracleChangeCursor.model_validate_json(first.cursor or "").requested == {"acme": "initial"}
    assert tick(first.cursor).run_requests == []  # the same state is requested once

    assert h.run().success
    h.fusion_control("POST", "/stats/reset")
    quiet = tick(first.cursor)
    assert quiet.run_requests == []
    assert h.fusion_control("GET", "/stats")["requests_by_route"] == {
        "GET /crmRestApi/resources/{version}/accounts": {"200": 1}
    }  # one cheap probe, no extraction

    (changed,) = sole_holders(h.customers(), 1)
    h.fusion_control("PATCH", f"/customers/{changed['PartyNumber']}", json={"OrganizationName": "Changed"})
    busy = tick(quiet.cursor)
    mark = h.store.marks.get("acme")
    assert mark is not None
    assert [r.run_key for r in busy.run_requests or []] == [
        f"oracle-change:acme:{mark.timestamp.isoformat()}:{mark.key}"
    ]
