"""`oracle-mailchimp dev` as `make dev` runs it: the sandbox and a real `dagster dev`, stopped by a signal."""

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))
REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0


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


def wait_for_server(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            response = requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2)
            if response.status_code == 200:
                assert response.json()["dagster_version"]
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"dagster dev did not answer on port {port} within {READY_TIMEOUT_S:.0f} s")


def test_dev_serves_the_ui_and_sigterm_stops_dagster_and_the_sandbox(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [CLI, "dev", "--port", str(port), "--customers", "50", "--workspace", str(REPO / "workspace.yaml")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=ignore_sigint,
    )
    try:
        wait_for_server(port, proc)
        env = dict(line.split("=", 1) for line in (tmp_path / ".sandbox.env").read_text().splitlines())
        assert accepts(env["ORACLE_BASE_URL"]) and accepts(env["MAILCHIMP_API_BASE"])
        home = tmp_path / ".dagster_home"
        assert {"dagster.yaml", "oracle_mailchimp.db", "oracle_mailchimp.key"} <= {
            p.name for p in home.iterdir()
        }
        assert (home / "dagster.yaml").read_text() == (REPO / "dagster.yaml").read_text()
        assert processes_using(home), "dagster dev's processes should carry the workspace's DAGSTER_HOME"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}" in out
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
