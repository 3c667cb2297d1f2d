"""A partition backfill over two tenants through a real `dagster dev`: both audiences built, both ledgers
and marks written, and nothing but the backfill's own runs on the instance.

Sensors default to RUNNING and the Oracle change sensor would request a run for every new tenant, so
the tenants are registered only after every sensor has had its first (empty) tick and been stopped:
their minimum interval (60 s and more) rules out a tick racing the registration.
"""

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from oracle_mailchimp_dagster.defs.assets import GROUP
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.local.demo_workspace import DEMO_MAPPING, LocalWorkspace
from oracle_mailchimp_dagster.local.dev import group_alive
from oracle_mailchimp_dagster.sandbox.mailchimp.config import COMPANY_MERGE_FIELD
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants import MailchimpSettings, OracleSettings, TenantConfig
from tests.e2e.expected import expected_members
from tests.support.dagster_dev import DagsterDev, poll, running_dagster_dev

CUSTOMERS = 200
TENANT_IDS = ("acme", "globex")
BACKFILL_TIMEOUT_S = 240.0
SENSOR_TICK_TIMEOUT_S = 120.0
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

SENSORS = """query($repo: RepositorySelector!) { repositoryOrError(repositorySelector: $repo) {
  __typename ... on Repository { sensors { id name
    sensorState { status ticks(limit: 5) { status } } } } } }"""
STOP_SENSOR = """mutation($id: String!) { stopSensor(id: $id) { __typename
  ... on StopSensorMutationResult { instigationState { name status } } ... on PythonError { message } } }"""
GROUP_ASSETS = """query($repo: RepositorySelector!) { repositoryOrError(repositorySelector: $repo) {
  ... on Repository { assetNodes { assetKey { path } groupName isPartitioned } } } }"""
ADD_PARTITION = """mutation($repo: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: $name, partitionKey: $key) {
    __typename ... on PythonError { message } } }"""
LAUNCH_BACKFILL = """mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message }
  ... on PartitionKeysNotFoundError { partitionKeys } } }"""
BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename
  ... on PartitionBackfill { status isAssetBackfill error { message }
    runs { runId status tags { key value } }
    assetBackfillData { assetBackfillStatuses { ... on AssetPartitionsStatusCounts {
      assetKey { path } numPartitionsTargeted numPartitionsMaterialized numPartitionsFailed } } } }
  ... on PythonError { message } } }"""
ALL_RUNS = """{ runsOrError { __typename ... on Runs { results { runId status tags { key value } } } } }"""


@pytest.fixture
def sandboxes() -> Iterator[SandboxPair]:
    with SandboxPair(SandboxOptions(customers=CUSTOMERS, latency="none")) as pair:
        yield pair


def second_list(pair: SandboxPair) -> str:
    """A new audience in the Mailchimp sandbox with the fields the mapping needs; its id."""
    response = requests.post(
        f"{pair.mailchimp.url}/__sandbox/lists",
        json={"name": "Globex Customers", "merge_fields": [COMPANY_MERGE_FIELD.model_dump()]},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def tenant(tenant_id: str, list_id: str, pair: SandboxPair) -> TenantConfig:
    fusion = pair.fusion
    return TenantConfig(
        id=tenant_id,
        oracle=OracleSettings(
            base_url=fusion.url,
            token_url=fusion.token_url,
            scope=fusion.config.scope,
            client_id=fusion.config.client_id,
        ),
        mailchimp=MailchimpSettings(list_id=list_id, api_base=pair.mailchimp.api_base),
        mapping=DEMO_MAPPING,
    )


def customers(pair: SandboxPair) -> list[dict[str, Any]]:
    response = requests.get(f"{pair.fusion.url}/__sandbox/customers", params={"limit": 100000}, timeout=30)
    return list(response.json()["items"])


def live_members(pair: SandboxPair, list_id: str) -> dict[str, dict[str, Any]]:
    """The list's members that are not archived, by lower-cased address (control API dump)."""
    body = requests.get(f"{pair.mailchimp.url}/__sandbox/lists/{list_id}/members", timeout=30).json()
    return {m["email_address"].lower(): m for m in body["members"] if m["status"] != "archived"}


def stop_all_sensors(dev: DagsterDev, repo: dict[str, str]) -> list[str]:
    """Once every sensor has finished a first tick, stop them all; their names."""

    def first_ticks_done() -> list[dict[str, Any]] | None:
        sensors = dev.graphql(SENSORS, {"repo": repo})["repositoryOrError"]["sensors"]
        for sensor in sensors:
            ticks = sensor["sensorState"]["ticks"]
            if not ticks or any(t["status"] == "STARTED" for t in ticks):
                return None
        return list(sensors)

    sensors = poll(first_ticks_done, SENSOR_TICK_TIMEOUT_S, "every sensor finishes its first tick")
    for sensor in sensors:
        result = dev.graphql(STOP_SENSOR, {"id": sensor["id"]})["stopSensor"]
        assert result["__typename"] == "StopSensorMutationResult", result
        assert result["instigationState"]["status"] == "STOPPED", result
    return sorted(s["name"] for s in sensors)


def group_asset_keys(dev: DagsterDev, repo: dict[str, str]) -> list[list[str]]:
    nodes = dev.graphql(GROUP_ASSETS, {"repo": repo})["repositoryOrError"]["assetNodes"]
    keys = [n["assetKey"]["path"] for n in nodes if n["groupName"] == GROUP]
    assert all(n["isPartitioned"] for n in nodes if n["groupName"] == GROUP)
    return sorted(keys)


def finished_backfill(dev: DagsterDev, backfill_id: str) -> dict[str, Any] | None:
    backfill = dev.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
    assert backfill["__typename"] == "PartitionBackfill", backfill
    return backfill if backfill["status"] in FINISHED else None


def tags(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["tags"]}


def test_a_backfill_over_two_tenant_partitions_syncs_each_tenant(
    sandboxes: SandboxPair, tmp_path: Path
) -> None:
    pair = sandboxes
    lists = {"acme": pair.mailchimp.config.list_id, "globex": second_list(pair)}
    workspace = LocalWorkspace(tmp_path / "dagster_home")
    registry = workspace.open_registry()
    try:
        with running_dagster_dev(workspace, tmp_path / "dagster_dev.log") as dev:
            repo = dev.repository_selector()
            stopped = stop_all_sensors(dev, repo)
            assert stopped == [
                "mailchimp_audience_events_sensor",
                "oracle_change_sensor",
                "tenant_registry_sensor",
            ]

            for tenant_id in TENANT_IDS:
                registry.add(
                    tenant(tenant_id, lists[tenant_id], pair),
                    {
                        SecretName.ORACLE_CLIENT_SECRET: pair.fusion.config.client_secret,
                        SecretName.MAILCHIMP_API_KEY: SecretStr(pair.mailchimp.config.api_key),
                    },
                )
                added = dev.graphql(ADD_PARTITION, {"repo": repo, "name": TENANTS, "key": tenant_id})
                assert added["addDynamicPartition"]["__typename"] == "AddDynamicPartitionSuccess", added

            asset_keys = group_asset_keys(dev, repo)
            assert asset_keys == [["fusion_customers"], ["mailchimp_members"], ["mailchimp_sync_results"]]
            launched = dev.graphql(
                LAUNCH_BACKFILL,
                {
                    "params": {
                        "assetSelection": [{"path": key} for key in asset_keys],
                        "partitionNames": list(TENANT_IDS),
                        "title": "e2e backfill of two tenants",
                    }
                },
            )["launchPartitionBackfill"]
            assert launched["__typename"] == "LaunchBackfillSuccess", launched
            backfill_id = launched["backfillId"]

            try:
                backfill = poll(
                    lambda: finished_backfill(dev, backfill_id),
                    BACKFILL_TIMEOUT_S,
                    f"backfill {backfill_id} finishes",
                    interval_s=1.0,
                )
            except AssertionError as exc:
                raise AssertionError(f"{exc}; dagster dev's log ends:\n{dev.log()[-4000:]}") from None
            all_runs = dev.graphql(ALL_RUNS)["runsOrError"]["results"]
            dev.stop()
            assert dev.process.returncode is not None
    finally:
        registry.db.dispose()

    # dagster dev stopped by itself on SIGTERM, with every process of its group.
    assert dev.stop_messages == ["Stopping dagster dev ..."], dev.stop_messages
    assert dev.process.returncode in (0, -signal.SIGTERM), dev.process.returncode
    assert "Dagster services shut down." in dev.log()
    assert not group_alive(dev.process.pid)

    assert backfill["isAssetBackfill"] and backfill["error"] is None
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    statuses = {
        tuple(s["assetKey"]["path"]): (
            s["numPartitionsTargeted"],
            s["numPartitionsMaterialized"],
            s["numPartitionsFailed"],
        )
        for s in backfill["assetBackfillData"]["assetBackfillStatuses"]
    }
    assert statuses == {tuple(key): (2, 2, 0) for key in asset_keys}

    # Two runs, one per tenant, both the backfill's own, both successful; no other run on the instance.
    runs = {tags(run)["dagster/partition"]: run for run in backfill["runs"]}
    assert sorted(runs) == sorted(TENANT_IDS)
    assert all(run["status"] == "SUCCESS" for run in runs.values()), backfill["runs"]
    assert all(tags(run)["dagster/backfill"] == backfill_id for run in runs.values())
    assert sorted(r["runId"] for r in all_runs) == sorted(r["runId"] for r in runs.values())

    # Each tenant's own audience built as Oracle says, its ledger rows under its run, its mark set.
    source = customers(pair)
    expected = expected_members(source)
    assert expected
    store = SyncStore(workspace.open_registry().db)
    try:
        for tenant_id, other in zip(TENANT_IDS, reversed(TENANT_IDS), strict=True):
            run_id = runs[tenant_id]["runId"]
            members = live_members(pair, lists[tenant_id])
            assert set(members) == set(expected), tenant_id
            ledger = store.ledger.for_run(tenant_id, run_id)
            assert len(ledger) == len(source), tenant_id  # one row per record
            assert {e.customer_key for e in ledger} == {str(c["PartyNumber"]) for c in source}
            assert store.ledger.for_run(other, run_id) == []
            assert store.marks.get(tenant_id) is not None, tenant_id
        assert store.marks.get("acme") == store.marks.get("globex")  # one Oracle source, one mark
    finally:
        store.db.dispose()
