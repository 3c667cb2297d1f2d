"""What the Dagster UI shows of a sync, read through the webserver's GraphQL as the UI reads it, under a
real `dagster dev` (webserver, daemon, code server) on the sandboxes.

A run launched as the Materialize button launches it (`__ASSET_JOB`, the partition tag alone) for a
tenant found through DAGSTER_HOME only (no database URL in the environment, as users run it):

- fusion_customers' latest materialization counts its HTTP calls (> 0), and only the meaningful
  figures are numbers (plotted); counts are tables, marks timestamps;
- every check of the three assets has a description and is partitioned by tenant, and each check
  result names its tenant (its partition, description and metadata);
- the run's log says what each asset read, planned and wrote;
- the printed audit command works pasted into a shell without DAGSTER_HOME and creates nothing;
- a partition that is no registered tenant (the UI's "Add a partition") fails in one line that says
  how to add a tenant.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.local.demo_workspace import LocalWorkspace
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from oracle_mailchimp_dagster.store import DATABASE_URL_ENV
from tests.support.dagster_dev import (
    TERMINAL_RUN_STATUSES,
    DagsterDev,
    poll,
    running_dagster_dev,
    workspace_cli,
)
from tests.support.plotted import PLOTTED

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))
TENANT, GHOST = "acme", "ghost"
RUN_TIMEOUT_S = 240.0
CHECKS = {
    "fusion_customers": {"quarantined_rows"},
    "mailchimp_members": {"invalid_record_rate"},
    "mailchimp_sync_results": {"failed_record_rate", "dead_letters_waiting", "audience_fresh"},
}
ENTRIES = """__typename label ... on IntMetadataEntry { intValue } ... on FloatMetadataEntry { floatValue }
  ... on TextMetadataEntry { text } ... on TimestampMetadataEntry { timestamp }
  ... on TableMetadataEntry { table { records schema { columns { name type } } } }"""
LATEST = (
    """query($key: AssetKeyInput!, $partitions: [String!]) { assetOrError(assetKey: $key) {
  __typename ... on Asset { assetMaterializations(partitions: $partitions, limit: 1) { runId partition
    metadataEntries { """
    + ENTRIES
    + " } } } } }"
)

ASSET_CHECKS = """query($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) { assetKey { path }
  assetChecksOrError { __typename ... on AssetChecks { checks { name description
    partitionDefinition { type name } } } } } }"""
CHECK_EXECUTIONS = (
    """query($key: AssetKeyInput!, $name: String!, $partition: String) {
  assetCheckExecutions(assetKey: $key, checkName: $name, limit: 5, partition: $partition) {
    runId status partition evaluation { partition description success metadataEntries { """
    + ENTRIES
    + " } } } }"
)
RUN_LOGS = """query($runId: ID!) { logsForRun(runId: $runId, limit: 1000) { __typename
  ... on EventConnection { events { __typename ... on MessageEvent { message level }
    ... on ExecutionStepFailureEvent { stepKey error { message } failureMetadata { description } } } } } }"""


@dataclass(frozen=True)
class HomeOnlyWorkspace(LocalWorkspace):
    """The workspace as a user runs it: DAGSTER_HOME (and the key file) in the environment, no database
    URL, so the app database is found as oracle_mailchimp.db in DAGSTER_HOME."""

    def env(self) -> dict[str, str]:
        return {k: v for k, v in super().env().items() if k != DATABASE_URL_ENV}

    def child_env(self, base: Mapping[str, str]) -> dict[str, str]:
        return {k: v for k, v in super().child_env(base).items() if k != DATABASE_URL_ENV}


@pytest.fixture
def sandboxes() -> Iterator[SandboxPair]:
    with SandboxPair(SandboxOptions(customers=60, latency="none")) as pair:
        yield pair


def cli(workspace: LocalWorkspace, *args: str) -> str:
    return workspace_cli(workspace, *args)


def finished(dev: DagsterDev, run_id: str) -> str:
    def status() -> str | None:
        found = str(dev.runs([run_id])[run_id]["status"])
        return found if found in TERMINAL_RUN_STATUSES else None

    return poll(status, RUN_TIMEOUT_S, f"run {run_id} finishes")


def launch_as_materialize(dev: DagsterDev, repo: dict[str, str], partition: str) -> str:
    """The Materialize button on the three sync assets for one partition."""
    assets = [[asset] for asset in CHECKS]
    return dev.launch_run(repo, "__ASSET_JOB", {"dagster/partition": partition}, asset_selection=assets)


def entries(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["label"]: entry for entry in found}


def latest_metadata(dev: DagsterDev, asset: str) -> tuple[str, dict[str, dict[str, Any]]]:
    found = dev.graphql(LATEST, {"key": {"path": [asset]}, "partitions": [TENANT]})["assetOrError"]
    assert found["__typename"] == "Asset", found
    (materialization,) = found["assetMaterializations"]
    assert materialization["partition"] == TENANT
    return materialization["runId"], entries(materialization["metadataEntries"])


def table_rows(entry: dict[str, Any]) -> list[dict[str, Any]]:
    assert entry["__typename"] == "TableMetadataEntry", entry
    return [json.loads(record) for record in entry["table"]["records"]]


def run_events(dev: DagsterDev, run_id: str) -> list[dict[str, Any]]:
    found = dev.graphql(RUN_LOGS, {"runId": run_id})["logsForRun"]
    assert found["__typename"] == "EventConnection", found
    return list(found["events"])


def assert_metadata_reads_well(dev: DagsterDev, run_id: str) -> None:
    for asset, plotted in PLOTTED.items():
        materialized_by, md = latest_metadata(dev, asset)
        assert materialized_by == run_id
        numbers = {k for k, e in md.items() if e["__typename"] in ("IntMetadataEntry", "FloatMetadataEntry")}
        assert numbers == plotted, asset
        assert md["tenant"]["text"] == TENANT
    _, extract = latest_metadata(dev, "fusion_customers")
    assert extract["http_calls"]["intValue"] > 0 and extract["rows"]["intValue"] > 0
    assert extract["window_end"]["__typename"] == "TimestampMetadataEntry"
    _, plan = latest_metadata(dev, "mailchimp_members")
    actions = table_rows(plan["actions"])
    assert actions and all(row["count"] > 0 for row in actions)
    assert sum(row["count"] for row in actions) == plan["records"]["intValue"]
    _, results = latest_metadata(dev, "mailchimp_sync_results")
    outcomes = {row["outcome"]: row["count"] for row in table_rows(results["outcomes"])}
    assert outcomes["created"] == results["outcome_created"]["intValue"] > 0
    assert results["mark_after"]["__typename"] == "TimestampMetadataEntry"
    assert table_rows(results["failures_sample"]) is not None


def assert_checks_explain_themselves_per_tenant(dev: DagsterDev, run_id: str) -> None:
    keys = [{"path": [asset]} for asset in CHECKS]
    for node in dev.graphql(ASSET_CHECKS, {"keys": keys})["assetNodes"]:
        asset = node["assetKey"]["path"][0]
        checks = node["assetChecksOrError"]["checks"]
        assert {c["name"] for c in checks} == CHECKS[asset]
        for check in checks:
            assert len(check["description"] or "") > 80, check  # what, when it warns, what to do
            assert check["partitionDefinition"] == {"type": "DYNAMIC", "name": TENANTS}, check
            variables = {"key": {"path": [asset]}, "name": check["name"], "partition": TENANT}
            executions = dev.graphql(CHECK_EXECUTIONS, variables)["assetCheckExecutions"]
            latest = executions[0]
            assert (latest["runId"], latest["partition"]) == (run_id, TENANT), latest
            evaluation = latest["evaluation"]
            assert evaluation["partition"] == TENANT
            assert f"tenant {TENANT}" in evaluation["description"], evaluation
            assert entries(evaluation["metadataEntries"])["tenant"]["text"] == TENANT
            # Another tenant's history is its own: none of acme's results show under it.
            variables["partition"] = GHOST
            assert dev.graphql(CHECK_EXECUTIONS, variables)["assetCheckExecutions"] == []


DRIFT_IN_UI = """query($repo: RepositorySelector!, $keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) { groupName dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name description partitionDefinition { name } } } } }
  sensorsOrError(repositorySelector: $repo) { __typename ... on Sensors { results { name description
    targets { pipelineName } } } } }"""


def assert_the_drift_asset_its_check_and_schedule_are_in_the_ui(
    dev: DagsterDev, repo: dict[str, str]
) -> None:
    keys = [{"path": ["mailchimp_audience_drift"]}]
    found = dev.graphql(DRIFT_IN_UI, {"repo": repo, "keys": keys})
    [node] = found["assetNodes"]
    assert node["groupName"] == "oracle_to_mailchimp"
    assert node["dependencyKeys"] == [{"path": ["mailchimp_sync_results"]}]
    [check] = node["assetChecksOrError"]["checks"]
    assert check["name"] == "drift_rate" and len(check["description"]) > 80
    assert check["partitionDefinition"] == {"name": TENANTS}
    sensors = {s["name"]: s for s in found["sensorsOrError"]["results"]}
    schedule = sensors["tenant_reconcile_schedule_sensor"]
    assert schedule["targets"] == [{"pipelineName": "audience_drift_job"}]
    assert "weekly" in schedule["description"]


def assert_the_log_says_what_each_asset_did(dev: DagsterDev, run_id: str) -> None:
    said = [e["message"] for e in run_events(dev, run_id) if e["__typename"] == "LogMessageEvent"]
    for phrase in ("reading Oracle customers", " rows in ", "planned ", "wrote ", "every record: "):
        assert any(f"tenant {TENANT}: " in line and phrase in line for line in said), (phrase, said)


def assert_the_audit_command_works_as_printed(dev: DagsterDev, workspace: LocalWorkspace, cwd: Path) -> None:
    run_id, results = latest_metadata(dev, "mailchimp_sync_results")
    command = results["ledger_query"]["text"]
    assert command == f"DAGSTER_HOME={workspace.dagster_home} oracle-mailchimp audit {TENANT} --run {run_id}"
    shell_env = {
        k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", DATABASE_URL_ENV) and "KEY" not in k
    }
    shell_env["PATH"] = f"{Path(CLI).parent}:{shell_env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", command], env=shell_env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done
    assert done.stdout.startswith(f"tenant {TENANT}, run {run_id}: "), done.stdout
    assert list(cwd.iterdir()) == []  # nothing created where it was pasted


def test_the_ui_explains_a_sync_through_graphql(sandboxes: SandboxPair, tmp_path: Path) -> None:
    pair = sandboxes
    env_file = tmp_path / "sandbox.env"
    pair.write_env_file(env_file)
    workspace = HomeOnlyWorkspace(tmp_path / "dagster_home")
    workspace.open_registry().db.dispose()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    with running_dagster_dev(workspace, tmp_path / "dagster_dev.log") as dev:
        repo = dev.repository_selector()
        dev.stop_all_sensors(repo)  # the partitions below are this test's own
        cli(
            workspace,
            "tenants",
            "add",
            TENANT,
            "--env-file",
            str(env_file),
            "--status-if-new",
            "transactional",
        )
        dev.add_partition(repo, TENANTS, TENANT)
        run_id = launch_as_materialize(dev, repo, TENANT)
        assert finished(dev, run_id) == "SUCCESS", dev.log()[-4000:]

        assert_metadata_reads_well(dev, run_id)
        assert_checks_explain_themselves_per_tenant(dev, run_id)
        assert_the_drift_asset_its_check_and_schedule_are_in_the_ui(dev, repo)
        assert_the_log_says_what_each_asset_did(dev, run_id)
        assert_the_audit_command_works_as_printed(dev, workspace, elsewhere)

        # The UI's "Add a partition" makes a partition, not a tenant: the run fails saying so.
        dev.add_partition(repo, TENANTS, GHOST)
        ghost_run = launch_as_materialize(dev, repo, GHOST)
        assert finished(dev, ghost_run) == "FAILURE"
        (failure,) = [e for e in run_events(dev, ghost_run) if e["__typename"] == "ExecutionStepFailureEvent"]
        assert failure["stepKey"] == "fusion_customers"
        said = failure["failureMetadata"]["description"]
        assert "\n" not in said and said.startswith(f"partition '{GHOST}' is not a registered tenant"), said
        assert f"oracle-mailchimp tenants add {GHOST} " in said
        assert pair.mailchimp.config.api_key not in json.dumps(run_events(dev, run_id))
