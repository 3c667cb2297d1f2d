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
from pydantic import SecretStr

from oracle_mailchimp_dagster.defs.assets import GROUP
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.run_tags import MAILCHIMP_KEY_TAG, TENANT_TAG, TRIGGER_TAG
from oracle_mailchimp_dagster.defs.scheduling import SENSOR_NAME
from oracle_mailchimp_dagster.local.demo_workspace import LocalWorkspace
from oracle_mailchimp_dagster.local.dev import group_alive
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint
from tests.support.dagster_dev import DagsterDev, poll, running_dagster_dev
from tests.support.e2e_tenants import customers, live_members, new_audience, tenant
from tests.support.expected import expected_members

CUSTOMERS = 200
TENANT_IDS = ("acme", "globex")
BACKFILL_TIMEOUT_S = 240.0
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

GROUP_ASSETS = """query($repo: RepositorySelector!) { repositoryOrError(repositorySelector: $repo) {
  ... on Repository { assetNodes { assetKey { path } groupName isPartitioned } } } }"""
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
    lists = {"acme": pair.mailchimp.config.list_id, "globex": new_audience(pair, "Globex Customers")}
    workspace = LocalWorkspace(tmp_path / "dagster_home")
    registry = workspace.open_registry()
    try:
        with running_dagster_dev(workspace, tmp_path / "dagster_dev.log") as dev:
            repo = dev.repository_selector()
            stopped = dev.stop_all_sensors(repo)
            # Every sensor that could request a run is stopped (the final check finds no other run).
            assert {"oracle_change_sensor", "tenant_registry_sensor", SENSOR_NAME} <= set(stopped)

            for tenant_id in TENANT_IDS:
                registry.add(
                    tenant(tenant_id, lists[tenant_id], pair),
                    {
                        SecretName.ORACLE_CLIENT_SECRET: pair.fusion.config.client_secret,
                        SecretName.MAILCHIMP_API_KEY: SecretStr(pair.mailchimp.config.api_key),
                    },
                )
                dev.add_partition(repo, TENANTS, tenant_id)

            group = group_asset_keys(dev, repo)
            sync_keys = [["fusion_customers"], ["mailchimp_members"], ["mailchimp_sync_results"]]
            assert group == sorted([*sync_keys, ["mailchimp_audience_drift"]])
            asset_keys = sync_keys  # the sync; the drift asset downstream has its own schedule
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
    # Each says who and why (added by the run coordinator on submission: the backfill sets neither),
    # so dagster.yaml's one run per Mailchimp key holds backfill runs too.
    fingerprint = credential_fingerprint(pair.mailchimp.config.api_key)
    for tenant_id, run in runs.items():
        assert {k: tags(run).get(k) for k in (TENANT_TAG, TRIGGER_TAG, MAILCHIMP_KEY_TAG)} == {
            TENANT_TAG: tenant_id,
            TRIGGER_TAG: "ui",
            MAILCHIMP_KEY_TAG: fingerprint,
        }
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
