"""`oracle-mailchimp dev` as `make dev` runs it: the sandbox and a real `dagster dev`, stopped by a signal.

Its output is INFO and above (a run's DEBUG events stay in the UI) and has no warning that the
dagster.yaml in the current folder is not used (`dagster dev` runs in DAGSTER_HOME, beside its copy).
"""

import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
import yaml

from oracle_mailchimp_dagster.local.demo_workspace import DEMO_TENANT
from oracle_mailchimp_dagster.local.dev_files import DEV_PYTHON_LOGS
from tests.support.dagster_dev import LAUNCH_RUN, REPOSITORY_NAME, RUNS_BY_ID, TERMINAL_RUN_STATUSES, poll

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))
REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120.0
RUN_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0
JOB = "tenant_sync_job"
# The daemon's line once the registry sensor has made the demo tenant a partition.
DEMO_PARTITION_ADDED = f"Added partition keys to dynamic partitions definition 'tenants': ['{DEMO_TENANT}']"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts(url: str) -> bool:
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


def processes_using(dagster_home: Path) -> list[int]:
    """Processes whose environment points DAGSTER_HOME at this test's workspace."""
    marker = f"DAGSTER_HOME={dagster_home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def ignore_sigint() -> None:
    """As a non-interactive shell starts background jobs: SIGINT ignored (dagster notes §0.9)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def wait_for_server(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    def answers() -> bool:
        assert proc.poll() is None, log.read_text()
        try:
            response = requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2)
        except requests.RequestException:
            return False
        return response.status_code == 200 and bool(response.json()["dagster_version"])

    poll(answers, READY_TIMEOUT_S, f"dagster dev answers on port {port}")


def graphql(port: int, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables}, timeout=60
    )
    assert response.status_code == 200 and not response.json().get("errors"), response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def launch_demo_sync(port: int, log: Path) -> str:
    """A run of the sync job for tenant `demo`, launched as the UI launches it, once the registry
    sensor has made `demo` a partition; its run id."""
    poll(lambda: DEMO_PARTITION_ADDED in log.read_text(), READY_TIMEOUT_S, "the demo partition is added")
    location = poll(lambda: location_name(port), READY_TIMEOUT_S, "the code location loads")
    params = {
        "selector": {"repositoryLocationName": location, "repositoryName": REPOSITORY_NAME, "jobName": JOB},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": DEMO_TENANT}]},
        "runConfigData": {},
    }
    launched = graphql(port, LAUNCH_RUN, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return str(launched["run"]["runId"])


def location_name(port: int) -> str | None:
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    entries = graphql(port, query, {})["workspaceOrError"]["locationEntries"]
    loaded = [entry["name"] for entry in entries if entry["loadStatus"] == "LOADED"]
    return str(loaded[0]) if loaded else None


def run_status(port: int, run_id: str) -> str | None:
    """The run's status once it has finished, else None."""
    found = graphql(port, RUNS_BY_ID, {"ids": [run_id]})["runsOrError"]["results"]
    return str(found[0]["status"]) if found and found[0]["status"] in TERMINAL_RUN_STATUSES else None


def test_dev_serves_the_ui_runs_print_info_and_sigterm_stops_dagster_and_the_sandbox(
    tmp_path: Path,
) -> None:
    port = free_port()
    log = tmp_path / "dev.log"
    with log.open("wb") as out_file:
        proc = subprocess.Popen(
            [CLI, "dev", "--port", str(port), "--customers", "50", "--latency", "none",
             "--workspace", str(REPO / "workspace.yaml")],
            cwd=tmp_path,
            stdout=out_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=ignore_sigint,
        )  # fmt: skip
    try:
        wait_for_server(port, proc, log)
        env = dict(line.split("=", 1) for line in (tmp_path / ".sandbox.env").read_text().splitlines())
        assert accepts(env["ORACLE_BASE_URL"]) and accepts(env["MAILCHIMP_API_BASE"])
        home = tmp_path / ".dagster_home"
        assert {"dagster.yaml", "workspace.yaml", "oracle_mailchimp.db", "oracle_mailchimp.key"} <= {
            p.name for p in home.iterdir()
        }
        instance = (home / "dagster.yaml").read_text()
        assert instance == (REPO / "dagster.yaml").read_text().rstrip("\n") + "\n" + DEV_PYTHON_LOGS
        assert yaml.safe_load((home / "workspace.yaml").read_text())["load_from"] == [
            {
                "python_module": {
                    "module_name": "oracle_mailchimp_dagster.definitions",
                    "working_directory": str(REPO),
                }
            }
        ]
        assert processes_using(home), "dagster dev's processes should carry the workspace's DAGSTER_HOME"
        run_id = launch_demo_sync(port, log)
        assert poll(lambda: run_status(port, run_id), RUN_TIMEOUT_S, f"run {run_id} finishes") == "SUCCESS"
        # The run's INFO lines (each asset says what it did) reach this terminal; its DEBUG events do not.
        poll(
            lambda: f" - INFO - {JOB} - {run_id} - " in log.read_text(), RUN_TIMEOUT_S, "the run's INFO lines"
        )
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=STOP_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = log.read_text()
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}" in out
    assert "new members join as transactional: an ERP record is not marketing consent" in out
    assert [line for line in out.splitlines() if "DEBUG" in line] == []
    assert "will not be used" not in out and "Found a dagster instance configuration" not in out
    assert "Dagster services shut down." in out  # its own clean shutdown, not a kill after a timeout
    assert "did not stop" not in out
    assert "Sandbox stopped." in out
    assert not accepts(env["ORACLE_BASE_URL"]) and not accepts(env["MAILCHIMP_API_BASE"])
    assert not accepts(f"http://127.0.0.1:{port}")
    assert processes_using(home) == []
    assert env["ORACLE_CLIENT_SECRET"] not in out and env["MAILCHIMP_API_KEY"] not in out


def test_a_taken_ui_port_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [CLI, "dev", "--port", str(port), "--workspace", str(REPO / "workspace.yaml")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert (
        result.stderr
        == f"oracle-mailchimp: port {port} on 127.0.0.1 is taken: stop what uses it or pass --port\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_outside_the_repository_it_says_where_to_run_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [CLI, "dev", "--port", str(free_port())], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "workspace.yaml not found: run `make dev` from the repository root" in result.stderr
    assert "Traceback" not in result.stderr
