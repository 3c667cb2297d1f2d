"""A real `dagster dev` (webserver, daemon, code server) for end-to-end tests, driven through GraphQL.

It is started as `oracle-mailchimp dev` starts it (same command, own session, stopped once with
SIGTERM by `dev.stop_dagster`), with SIGINT and SIGTERM reset to their defaults in the child: a test
run from a background job would otherwise hand them down ignored (Dagster notes §0.9).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests

from oracle_mailchimp_dagster.local.demo_workspace import LocalWorkspace
from oracle_mailchimp_dagster.local.dev import HOST, dagster_dev_command, server_ready, stop_dagster

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120.0
SENSOR_TICK_TIMEOUT_S = 120.0
POLL_S = 0.5
REPOSITORY_NAME = "__repository__"
# Run statuses after which a run's status and times no longer change.
TERMINAL_RUN_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
# Variables of the test process that must not reach Dagster's processes.
DROPPED_ENV = ("ORACLE_MAILCHIMP_CRASH_AT",)

T = TypeVar("T")


LAUNCH_RUN = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
SENSORS = """query($repo: RepositorySelector!) { repositoryOrError(repositorySelector: $repo) {
  __typename ... on Repository { sensors { id name
    sensorState { status ticks(limit: 5) { status } } } } } }"""
STOP_SENSOR = """mutation($id: String!) { stopSensor(id: $id) { __typename
  ... on StopSensorMutationResult { instigationState { name status } } ... on PythonError { message } } }"""
ADD_PARTITION = """mutation($repo: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: $name, partitionKey: $key) {
    __typename ... on PythonError { message } } }"""
RUNS_BY_ID = """query($ids: [String!]) { runsOrError(filter: {runIds: $ids}) { __typename
  ... on Runs { results { runId status startTime endTime tags { key value } } }
  ... on PythonError { message } } }"""
RUNS_BY_TAGS = """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) { __typename
  ... on Runs { results { runId status startTime endTime tags { key value } } }
  ... on PythonError { message } } }"""
SENSOR_TICKS = """query($selector: SensorSelector!, $limit: Int) { sensorOrError(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { ticks(limit: $limit) { id status timestamp endTimestamp
    skipReason runIds logEvents { events { level message } } } } }
  ... on PythonError { message } } }"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def poll(check: Callable[[], T | None], timeout_s: float, what: str, interval_s: float = POLL_S) -> T:
    """`check()` until it returns something other than None (or False); fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(interval_s)


def _default_signals() -> None:
    """In the child before exec: SIGINT and SIGTERM back to their defaults, whatever we inherited."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@dataclass
class DagsterDev:
    """A running `dagster dev`; `graphql` posts to its API and fails on any GraphQL error."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    stop_messages: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def location_name(self) -> str:
        """The code location's name once it has loaded (fails at once on a load error)."""
        query = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
            locationOrLoadError { __typename ... on PythonError { message } } } } } }"""

        def loaded() -> str | None:
            entries = self.graphql(query)["workspaceOrError"]["locationEntries"]
            assert len(entries) == 1, entries
            entry = entries[0]
            if entry["loadStatus"] != "LOADED":
                return None
            assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
            return str(entry["name"])

        return poll(loaded, READY_TIMEOUT_S, "the code location loads")

    def repository_selector(self) -> dict[str, str]:
        return {"repositoryLocationName": self.location_name(), "repositoryName": REPOSITORY_NAME}

    def launch_run(
        self,
        repo: dict[str, str],
        job_name: str,
        tags: dict[str, str],
        run_config: dict[str, Any] | None = None,
        asset_selection: list[list[str]] | None = None,
    ) -> str:
        """Submit a run of `job_name` as the UI does (queued for the daemon under the instance's run
        limits); its run id. The Materialize button submits `__ASSET_JOB` with `asset_selection` (asset
        key paths) and the partition tag alone."""
        selector: dict[str, Any] = {**repo, "jobName": job_name}
        if asset_selection is not None:
            selector["assetSelection"] = [{"path": path} for path in asset_selection]
        params = {
            "selector": selector,
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
            "runConfigData": run_config or {},
        }
        launched = self.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        return str(launched["run"]["runId"])

    def runs(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        """These runs by id: status, startTime and endTime (epoch seconds, null until set) and tags."""
        found = self.graphql(RUNS_BY_ID, {"ids": run_ids})["runsOrError"]
        assert found["__typename"] == "Runs", found
        return {str(run["runId"]): run for run in found["results"]}

    def runs_tagged(self, tags: dict[str, str]) -> dict[str, dict[str, Any]]:
        """Every run carrying all of `tags`, by id (as `runs` gives them)."""
        wanted = [{"key": k, "value": v} for k, v in tags.items()]
        found = self.graphql(RUNS_BY_TAGS, {"tags": wanted})["runsOrError"]
        assert found["__typename"] == "Runs", found
        return {str(run["runId"]): run for run in found["results"]}

    def sensor_ticks(self, repo: dict[str, str], sensor: str, limit: int = 10) -> list[dict[str, Any]]:
        """The sensor's latest ticks, newest first: status, timestamp (epoch s), skipReason, runIds and
        the tick's log lines (`logEvents.events`: level, message), as the UI's tick history shows them."""
        selector = {**repo, "sensorName": sensor}
        found = self.graphql(SENSOR_TICKS, {"selector": selector, "limit": limit})["sensorOrError"]
        assert found["__typename"] == "Sensor", found
        return list(found["sensorState"]["ticks"])

    def finished_tick_after(self, repo: dict[str, str], sensor: str, after: float) -> dict[str, Any] | None:
        """The newest finished tick of `sensor` that started after `after` (epoch s), or None yet."""
        for tick in self.sensor_ticks(repo, sensor, limit=5):
            if tick["timestamp"] > after and tick["status"] != "STARTED":
                return tick
        return None

    def stop_all_sensors(self, repo: dict[str, str], keep: frozenset[str] = frozenset()) -> list[str]:
        """Once every sensor has finished a first tick, stop them all but those named in `keep`; the
        names of those stopped. Sensors default to RUNNING, so tests that want only their own runs
        call this before any tenant exists."""

        def first_ticks_done() -> list[dict[str, Any]] | None:
            sensors = self.graphql(SENSORS, {"repo": repo})["repositoryOrError"]["sensors"]
            for sensor in sensors:
                ticks = sensor["sensorState"]["ticks"]
                if not ticks or any(t["status"] == "STARTED" for t in ticks):
                    return None
            return list(sensors)

        sensors = poll(first_ticks_done, SENSOR_TICK_TIMEOUT_S, "every sensor finishes its first tick")
        sensors = [s for s in sensors if s["name"] not in keep]
        for sensor in sensors:
            result = self.graphql(STOP_SENSOR, {"id": sensor["id"]})["stopSensor"]
            assert result["__typename"] == "StopSensorMutationResult", result
            assert result["instigationState"]["status"] == "STOPPED", result
        return sorted(s["name"] for s in sensors)

    def add_partition(self, repo: dict[str, str], partitions_def: str, key: str) -> None:
        """Add `key` to a dynamic partitions definition, as the tenant registry sensor would."""
        added = self.graphql(ADD_PARTITION, {"repo": repo, "name": partitions_def, "key": key})
        assert added["addDynamicPartition"]["__typename"] == "AddDynamicPartitionSuccess", added

    def stop(self) -> None:
        """SIGTERM once and wait, as `oracle-mailchimp dev` does (it kills only after a timeout)."""
        stop_dagster(self.process, lambda message, **_: self.stop_messages.append(str(message)))


@contextmanager
def running_dagster_dev(workspace: LocalWorkspace, log_path: Path) -> Iterator[DagsterDev]:
    """`dagster dev -w workspace.yaml` of this repository on `workspace`, answering /server_info."""
    workspace.write_instance_config((REPO / "dagster.yaml").read_text(encoding="utf-8"))
    port = free_port()
    env = {k: v for k, v in workspace.child_env(os.environ).items() if k not in DROPPED_ENV}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            dagster_dev_command(REPO / "workspace.yaml", port),
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_signals,
        )
    dev = DagsterDev(process, port, log_path)
    try:

        def ready() -> bool:
            assert process.poll() is None, f"dagster dev exited with {process.returncode}:\n{dev.log()}"
            return server_ready(port)

        poll(ready, READY_TIMEOUT_S, f"dagster dev answers /server_info on port {port}")
        yield dev
    finally:
        dev.stop()


CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))


def workspace_cli(workspace: LocalWorkspace, *args: str) -> str:
    """`oracle-mailchimp ARGS` on the workspace, as an operator types it; its output (exit 0)."""
    done = subprocess.run(
        [CLI, *args],
        env=workspace.child_env(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done
    return done.stdout + done.stderr
