"""Runs launched as the UI launches them are tagged on submission by the run coordinator of the
repository's dagster.yaml, on a real instance: through Dagster's own GraphQL schema, against a real
code server process, as the Materialize button does (`__ASSET_JOB`, the partition tag alone).

No daemon runs, so the runs stay queued: what is checked is what the queue sees.
"""

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.workspace.context import WorkspaceRequestContext
from dagster_graphql.client.query import LAUNCH_PIPELINE_EXECUTION_MUTATION
from dagster_graphql.test.utils import (
    define_out_of_process_context,
    execute_dagster_graphql,
    infer_job_selector,
    materialize_assets,
)

from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.run_coordinator import TenantTaggingRunCoordinator
from oracle_mailchimp_dagster.defs.run_tags import MAILCHIMP_KEY_TAG, TENANT_TAG, TRIGGER_TAG
from oracle_mailchimp_dagster.local.demo_workspace import LocalWorkspace
from oracle_mailchimp_dagster.local.dev import tags_every_run
from oracle_mailchimp_dagster.secrets import KEY_FILE_ENV, MASTER_KEY_ENV
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint
from tests.support.scratch_db import scratch_postgres_database
from tests.support.tenant_samples import MAILCHIMP_KEY, config, secrets

REPO = Path(__file__).resolve().parents[2]
ASSET_KEYS = [
    dg.AssetKey("fusion_customers"),
    dg.AssetKey("mailchimp_members"),
    dg.AssetKey("mailchimp_sync_results"),
]
WHO_AND_WHY = (TENANT_TAG, TRIGGER_TAG, MAILCHIMP_KEY_TAG)


@dataclass
class Deployment:
    workspace: LocalWorkspace
    instance: dg.DagsterInstance
    context: WorkspaceRequestContext  # what the webserver's GraphQL resolvers get

    def materialize(self, partition: str) -> dg.DagsterRun:
        """The Materialize button for one tenant partition: the submitted run as the queue sees it."""
        results = materialize_assets(self.context, ASSET_KEYS, partition_keys=[partition])
        assert isinstance(results, list) and len(results) == 1, results
        return self._queued(results[0].data)

    def launch(self, tags: dict[str, str]) -> dg.DagsterRun:
        """`__ASSET_JOB` of the group's assets submitted with exactly `tags`."""
        selector = infer_job_selector(
            self.context,
            "__ASSET_JOB",
            asset_selection=[{"path": key.path} for key in ASSET_KEYS],
        )
        params = {
            "selector": selector,
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        result = execute_dagster_graphql(
            self.context,
            LAUNCH_PIPELINE_EXECUTION_MUTATION,
            variables={"executionParams": params},
        )
        return self._queued(result.data)

    def _queued(self, data: Any) -> dg.DagsterRun:
        launched = data["launchPipelineExecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run = self.instance.get_run_by_id(launched["run"]["runId"])
        assert run is not None and run.status == dg.DagsterRunStatus.QUEUED, run
        return run

    def engine_messages(self, run: dg.DagsterRun) -> list[str]:
        return [entry.message for entry in self.instance.all_logs(run.run_id) if entry.message]


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """DAGSTER_HOME with the repository's dagster.yaml, the app database with tenant acme, and the
    GraphQL context of a code server of this repository's workspace."""
    workspace = LocalWorkspace(tmp_path / "dagster_home")
    for key, value in workspace.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)
    registry = workspace.open_registry()
    registry.add(config("acme"), secrets())
    registry.db.dispose()
    workspace.write_instance_config((REPO / "dagster.yaml").read_text(encoding="utf-8"))
    monkeypatch.chdir(REPO)
    instance = dg.DagsterInstance.from_config(str(workspace.dagster_home))
    try:
        assert isinstance(instance.run_coordinator, TenantTaggingRunCoordinator)
        instance.add_dynamic_partitions(TENANTS, ["acme", "ghost", "globex"])
        with define_out_of_process_context(str(REPO / "workspace.yaml"), None, instance) as context:
            yield Deployment(workspace, instance, context)
    finally:
        instance.dispose()


def test_ui_runs_are_tagged_before_they_are_queued_and_never_refused(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = deployment
    run = d.materialize("acme")
    assert {k: run.tags.get(k) for k in WHO_AND_WHY} == {
        TENANT_TAG: "acme",
        TRIGGER_TAG: "ui",
        MAILCHIMP_KEY_TAG: credential_fingerprint(MAILCHIMP_KEY),
    }
    assert run.asset_selection == set(ASSET_KEYS) and run.job_name == "__ASSET_JOB"
    assert MAILCHIMP_KEY not in str(run.tags)
    # The queue counts runs by the tags stored with them, and finds this one under its key.
    queued = d.instance.get_runs(
        dg.RunsFilter(tags={MAILCHIMP_KEY_TAG: credential_fingerprint(MAILCHIMP_KEY)})
    )
    assert [r.run_id for r in queued] == [run.run_id]

    # A partition that names no tenant: queued all the same with what is known, and the run's event
    # log says why it has no key tag (the run then fails on its own: no such tenant).
    ghost = d.materialize("ghost")
    assert {k: ghost.tags.get(k) for k in WHO_AND_WHY} == {
        TENANT_TAG: "ghost",
        TRIGGER_TAG: "ui",
        MAILCHIMP_KEY_TAG: None,
    }
    (said,) = [m for m in d.engine_messages(ghost) if m.startswith("oracle-mailchimp:")]
    assert f"no {MAILCHIMP_KEY_TAG} tag" in said and "no tenant 'ghost'" in said

    # A run that says who and why already keeps its tags; one a sensor launched is not called `ui`.
    tagged = {
        "dagster/partition": "acme",
        TENANT_TAG: "acme",
        TRIGGER_TAG: "schedule",
        MAILCHIMP_KEY_TAG: "f" * 16,
    }
    assert {k: d.launch(tagged).tags.get(k) for k in tagged} == tagged
    by_sensor = d.launch({"dagster/partition": "acme", "dagster/sensor_name": "another_sensor"})
    assert {k: by_sensor.tags.get(k) for k in WHO_AND_WHY} == {
        TENANT_TAG: "acme",
        TRIGGER_TAG: None,
        MAILCHIMP_KEY_TAG: credential_fingerprint(MAILCHIMP_KEY),
    }

    # The registry cannot be read (the master key file is gone): not refused either.
    monkeypatch.setenv(KEY_FILE_ENV, str(d.workspace.dagster_home / "missing.key"))
    keyless = d.materialize("acme")
    assert {k: keyless.tags.get(k) for k in WHO_AND_WHY} == {
        TENANT_TAG: "acme",
        TRIGGER_TAG: "ui",
        MAILCHIMP_KEY_TAG: None,
    }
    (said,) = [m for m in d.engine_messages(keyless) if m.startswith("oracle-mailchimp:")]
    assert "per Mailchimp key does not hold this run" in said
    assert MAILCHIMP_KEY not in said


@contextmanager
def postgres_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A scratch database for Dagster's storage, in the variables dagster.postgres.yaml reads."""
    with scratch_postgres_database("omd_dagster") as url:
        monkeypatch.setenv("DAGSTER_PG_HOST", url.host or "127.0.0.1")
        monkeypatch.setenv("DAGSTER_PG_PORT", str(url.port or 5432))
        monkeypatch.setenv("DAGSTER_PG_USERNAME", url.username or "postgres")
        monkeypatch.setenv("DAGSTER_PG_PASSWORD", url.password or "")
        monkeypatch.setenv("DAGSTER_PG_DB", url.database or "")
        yield


@pytest.mark.parametrize("instance_file", ["dagster.yaml", "dagster.postgres.yaml"])
def test_both_instance_files_queue_runs_through_the_tagging_coordinator_with_the_limits(
    instance_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO / instance_file).read_text(encoding="utf-8")
    assert tags_every_run(text)  # what `oracle-mailchimp dev` checks before copying it
    (tmp_path / "dagster.yaml").write_text(text, encoding="utf-8")
    with postgres_settings(monkeypatch) if "postgres" in instance_file else nullcontext():
        instance = dg.DagsterInstance.from_config(str(tmp_path))
        try:
            assert isinstance(instance.run_coordinator, TenantTaggingRunCoordinator)
            limits = instance.get_concurrency_config().run_queue_config
            assert limits is not None
            assert {limit["key"]: limit["limit"] for limit in limits.tag_concurrency_limits} == {
                "dagster/partition": 1,
                MAILCHIMP_KEY_TAG: 1,
            }
        finally:
            instance.dispose()


def test_dev_says_when_the_instance_settings_would_not_tag_ui_runs() -> None:
    assert not tags_every_run("concurrency: {runs: {max_concurrent_runs: 8}}\n")
    assert not tags_every_run("run_coordinator:\n  module: dagster\n  class: QueuedRunCoordinator\n")
    assert not tags_every_run(": not yaml [")
