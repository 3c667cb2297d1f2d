"""Under a real `dagster dev`: a tenant added with `oracle-mailchimp tenants add` while it runs is
scheduled with no reload, stops being scheduled once disabled, and runs launched as the UI launches
them (the Materialize button: `__ASSET_JOB` with the partition tag alone) say who and why (the
cases of an unknown tenant and an unreadable registry are in test_ui_launch_tags).

Only the scheduling sensor keeps running (the others are stopped before any tenant exists, as in the
backfill test), so every scheduled run is its own. The tenant's cron is `* * * * *`, the shortest
there is: the test waits for one due minute after the tenant is added, and for one more after it is
disabled, each wait a poll with a deadline.
"""

import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from oracle_mailchimp_dagster.defs.assets import GROUP
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.run_tags import (
    MAILCHIMP_KEY_TAG,
    SCHEDULED_FOR_TAG,
    TENANT_TAG,
    TRIGGER_TAG,
)
from oracle_mailchimp_dagster.defs.scheduling import SENSOR_NAME
from oracle_mailchimp_dagster.local.demo_workspace import LocalWorkspace
from oracle_mailchimp_dagster.local.dev import group_alive
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint
from tests.support.dagster_dev import DagsterDev, poll, running_dagster_dev, workspace_cli

TENANT = "acme"
SCHEDULED_TIMEOUT_S = 180.0  # a due minute, the sensor's 30 s, the daemon's pace, a busy machine
TICK_TIMEOUT_S = 150.0
ASSET_JOB = "__ASSET_JOB"
GROUP_ASSETS = """query($repo: RepositorySelector!) { repositoryOrError(repositorySelector: $repo) {
  ... on Repository { assetNodes { assetKey { path } groupName } } } }"""


@pytest.fixture
def sandboxes() -> Iterator[SandboxPair]:
    with SandboxPair(SandboxOptions(customers=50, latency="none")) as pair:
        yield pair


def cli(workspace: LocalWorkspace, *args: str) -> str:
    return workspace_cli(workspace, *args)


def tag_values(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["tags"]}


def scheduled_runs(dev: DagsterDev) -> dict[str, dict[str, str]]:
    """The tags of every run the schedule requested for the tenant, by run id."""
    runs = dev.runs_tagged({TENANT_TAG: TENANT, TRIGGER_TAG: "schedule"})
    return {run_id: tag_values(run) for run_id, run in runs.items()}


def scheduled_for(tags: dict[str, str]) -> float:
    return datetime.fromisoformat(tags[SCHEDULED_FOR_TAG]).timestamp()


def next_minute(moment: float) -> float:
    return (moment // 60 + 1) * 60


def group_asset_paths(dev: DagsterDev, repo: dict[str, str]) -> list[list[str]]:
    nodes = dev.graphql(GROUP_ASSETS, {"repo": repo})["repositoryOrError"]["assetNodes"]
    return sorted(n["assetKey"]["path"] for n in nodes if n["groupName"] == GROUP)


def test_a_tenant_added_under_dagster_dev_is_scheduled_until_disabled_and_ui_runs_are_tagged(
    sandboxes: SandboxPair, tmp_path: Path
) -> None:
    pair = sandboxes
    env_file = tmp_path / "sandbox.env"
    pair.write_env_file(env_file)
    workspace = LocalWorkspace(tmp_path / "dagster_home")
    workspace.open_registry().db.dispose()  # the app database exists before dagster dev starts
    fingerprint = credential_fingerprint(pair.mailchimp.config.api_key)

    with running_dagster_dev(workspace, tmp_path / "dagster_dev.log") as dev:
        repo = dev.repository_selector()
        stopped = dev.stop_all_sensors(repo, keep=frozenset({SENSOR_NAME}))
        assert SENSOR_NAME not in stopped and "oracle_change_sensor" in stopped

        add = ["tenants", "add", TENANT, "--status-if-new", "transactional", "--env-file", str(env_file)]
        added = cli(workspace, *add, "--schedule", "* * * * *")
        assert pair.mailchimp.config.api_key not in added

        # The Materialize button: __ASSET_JOB with the partition tag only. The run coordinator adds
        # the tenant, the Mailchimp key's fingerprint and the trigger before the run is queued.
        dev.add_partition(repo, TENANTS, TENANT)
        assets = group_asset_paths(dev, repo)
        ui_run = dev.launch_run(repo, ASSET_JOB, {"dagster/partition": TENANT}, asset_selection=assets)
        ui_tags = tag_values(dev.runs([ui_run])[ui_run])
        assert {k: ui_tags.get(k) for k in (TENANT_TAG, TRIGGER_TAG, MAILCHIMP_KEY_TAG)} == {
            TENANT_TAG: TENANT,
            TRIGGER_TAG: "ui",
            MAILCHIMP_KEY_TAG: fingerprint,
        }
        # Scheduled with no reload, within a due minute and a sensor tick of being added.
        first = poll(
            lambda: scheduled_runs(dev) or None, SCHEDULED_TIMEOUT_S, "a scheduled run of the added tenant"
        )
        for tags in first.values():
            assert (tags[TENANT_TAG], tags[MAILCHIMP_KEY_TAG]) == (TENANT, fingerprint)
            assert tags["dagster/partition"] == TENANT
        ticks = dev.sensor_ticks(repo, SENSOR_NAME, limit=20)
        said = [e["message"] for t in ticks for e in t["logEvents"]["events"]]
        assert any(f"{TENANT}: scheduled '* * * * *' UTC; next due" in line for line in said), said
        assert any(line.startswith("next due per tenant (1 scheduled)") for line in said), said

        cli(workspace, "tenants", "update", TENANT, "--disabled")  # the spelling; --disable works too
        disabled_at = time.time()
        # The first tick that started after the change sees it; a tick that started after the next
        # due minute would have requested that minute, were the tenant enabled.
        poll(
            lambda: dev.finished_tick_after(repo, SENSOR_NAME, disabled_at),
            TICK_TIMEOUT_S,
            "a sensor tick after disabling",
            interval_s=1.0,
        )
        before = scheduled_runs(dev)
        due_again = next_minute(disabled_at)
        last = poll(
            lambda: dev.finished_tick_after(repo, SENSOR_NAME, due_again),
            TICK_TIMEOUT_S,
            "a sensor tick after the next due minute",
            interval_s=1.0,
        )
        after = scheduled_runs(dev)
        dev.stop()

    assert after == before, f"scheduled after disabling: {sorted(set(after) - set(before))}"
    # No run for a due minute after the change (a tick already under way may have requested one before).
    assert all(scheduled_for(tags) <= disabled_at for tags in after.values()), after
    assert "0 tenant(s) scheduled" in (last["skipReason"] or ""), last
    assert dev.process.returncode in (0, -signal.SIGTERM), dev.process.returncode
    assert not group_alive(dev.process.pid)
