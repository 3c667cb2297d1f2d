"""The topology users deploy, on this machine: PostgreSQL storage (deploy/dagster.yaml), the app's
`db upgrade` as a one-off step, a gRPC code server, `dagster-webserver` and `dagster-daemon` as
separate processes on deploy/workspace.yaml, the sandbox as `oracle-mailchimp sandbox serve`, a tenant
registered with the CLI, and a run launched as the UI's Materialize button launches it: queued by the
run coordinator in the webserver, dequeued by the daemon, executed in a process of its own. Then each
service stops on one SIGTERM, leaving nothing behind.

The sensors are stopped before the tenant exists (as in the other `dagster dev` tests), so the run is
the only one and the test stays short; the partition is added through GraphQL, as the registry
sensor would on its next tick.
"""

import os
import re
import signal
import time
from pathlib import Path

from oracle_mailchimp_dagster.defs.assets import GROUP
from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.defs.run_tags import MAILCHIMP_KEY_TAG, TENANT_TAG, TRIGGER_TAG
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint
from tests.support.dagster_dev import TERMINAL_RUN_STATUSES, poll
from tests.support.split_topology import (
    COMMANDS,
    STOP_TIMEOUT_S,
    deployment,
    run_cli,
    running_topology,
    sandbox_serve,
)

TENANT = "acme"
CUSTOMERS = 40
RUN_TIMEOUT_S = 120.0  # a pass: ~14 s from launch, the 5 s dequeue interval included
ASSET_JOB = "__ASSET_JOB"  # what the Materialize button submits
GROUP_ASSETS = """query($repo: RepositorySelector!) { repositoryOrError(repositorySelector: $repo) {
  ... on Repository { assetNodes { assetKey { path } groupName } } } }"""
RUN_EVENTS = """query($id: ID!) { logsForRun(runId: $id) { __typename
  ... on EventConnection { events { __typename ... on MessageEvent { message } } } } }"""
STARTED_PROCESS = re.compile(r"Started process for run \(pid: (\d+)\)")


def test_a_ui_launch_runs_in_its_own_process_through_the_daemon_on_the_split_topology(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    logs = tmp_path / "logs"
    logs.mkdir()
    with (
        deployment(tmp_path / "deploy") as dep,
        sandbox_serve(tmp_path, CUSTOMERS, logs) as sandbox,
    ):
        env = dep.env(os.environ)
        phases = {"databases and sandbox": time.monotonic() - started}
        upgraded = run_cli(COMMANDS["db-upgrade"], env, dep.app_dir)
        phases["db upgrade"] = time.monotonic() - started
        with running_topology(dep, env, logs) as topology:
            phases["servers up"] = time.monotonic() - started
            ui = topology.ui
            repo = ui.repository_selector()
            ui.stop_all_sensors(repo)
            added = run_cli(
                [
                    "oracle-mailchimp", "tenants", "add", TENANT, "--env-file", str(sandbox.env_file),
                    "--status-if-new", "transactional",
                ],
                env,
                dep.app_dir,
            )  # fmt: skip
            ui.add_partition(repo, TENANTS, TENANT)
            nodes = ui.graphql(GROUP_ASSETS, {"repo": repo})["repositoryOrError"]["assetNodes"]
            assets = sorted(n["assetKey"]["path"] for n in nodes if n["groupName"] == GROUP)
            phases["sensors stopped, tenant added"] = time.monotonic() - started
            run_id = ui.launch_run(repo, ASSET_JOB, {"dagster/partition": TENANT}, asset_selection=assets)

            def finished() -> dict[str, object] | None:
                for service in topology.services.values():
                    service.assert_running()
                run = ui.runs([run_id])[run_id]
                return run if run["status"] in TERMINAL_RUN_STATUSES else None

            run = poll(finished, RUN_TIMEOUT_S, f"run {run_id} finishes", interval_s=0.5)
            phases["run finished"] = time.monotonic() - started
            events = ui.graphql(RUN_EVENTS, {"id": run_id})["logsForRun"]["events"]
            pids = {name: s.process.pid for name, s in topology.services.items()}
            stopping = time.monotonic()
            codes = topology.stop()
            left = topology.groups_left()
            stopped_in = time.monotonic() - stopping
            phases["stopped"] = time.monotonic() - started
            service_logs = topology.logs()
        members = sandbox.live_members()
    elapsed = time.monotonic() - started

    kinds = [e["__typename"] for e in events]
    story = "\n".join(f"{e['__typename']}: {e.get('message', '')}" for e in events)
    assert run["status"] == "SUCCESS", story
    assert "schema upgraded" in upgraded and "storage ready" in upgraded, upgraded
    assert "new members join as transactional" in added, added

    # Queued by the run coordinator (in the webserver), then started by the daemon's dequeue: a run
    # launched straight away would have no RunEnqueuedEvent before its RunStartingEvent.
    assert kinds.index("RunEnqueuedEvent") < kinds.index("RunStartingEvent"), story
    tags = {t["key"]: t["value"] for t in run["tags"]}  # type: ignore[attr-defined]
    fingerprint = credential_fingerprint(sandbox.settings["MAILCHIMP_API_KEY"])
    assert (tags[TENANT_TAG], tags[TRIGGER_TAG], tags[MAILCHIMP_KEY_TAG]) == (TENANT, "ui", fingerprint)

    # The run executed in a process of its own: neither the webserver, the daemon nor the code server.
    run_pids = [int(m.group(1)) for e in events if (m := STARTED_PROCESS.search(e.get("message") or ""))]
    assert len(run_pids) == 1, story
    assert run_pids[0] not in pids.values(), (run_pids, pids)

    # It synced: the audience holds members now.
    assert members, "the run succeeded but the sandbox audience is empty"

    # One SIGTERM each stopped everything, within the deadline, and no process of any group is left.
    assert all(code is not None for code in codes.values()), f"not stopped within {STOP_TIMEOUT_S} s: {codes}"
    assert all(code in (0, -signal.SIGTERM) for code in codes.values()), codes
    assert left == [], left

    # No secret in any service's output, nor in what the CLI printed.
    secrets = (dep.master_key, *sandbox.secrets())
    for name, text in {**service_logs, "db upgrade": upgraded, "tenants add": added}.items():
        for secret in secrets:
            assert secret not in text, f"a secret in the output of {name}"
    print(
        f"split topology: run {run_id[:8]} succeeded, {len(members)} members, {elapsed:.1f} s in all, "
        f"stopped in {stopped_in:.1f} s ({topology.stop_seconds}) with {codes}; at "
        + ", ".join(f"{phase} {at:.1f} s" for phase, at in phases.items())
    )
