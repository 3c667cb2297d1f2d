"""`oracle-mailchimp sandbox serve` as a user runs it: a real process, real ports, real signals."""

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))


def read_env_file(path: Path, proc: subprocess.Popen[str], timeout_s: float = 30.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().endswith("\n"):
            return dict(line.split("=", 1) for line in path.read_text().splitlines())
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the sandbox did not write its env file in time")


def test_serve_writes_env_file_serves_both_apis_and_stops_on_sigterm(tmp_path: Path) -> None:
    env_file = tmp_path / "sandbox.env"
    proc = subprocess.Popen(
        [CLI, "sandbox", "serve", "--customers", "50", "--env-file", str(env_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        env = read_env_file(env_file, proc)
        assert set(env) >= {
            "ORACLE_BASE_URL",
            "ORACLE_TOKEN_URL",
            "ORACLE_SCOPE",
            "ORACLE_CLIENT_ID",
            "ORACLE_CLIENT_SECRET",
            "MAILCHIMP_API_KEY",
            "MAILCHIMP_API_BASE",
            "MAILCHIMP_LIST_ID",
        }
        assert env_file.stat().st_mode & 0o777 == 0o600
        token = requests.post(
            env["ORACLE_TOKEN_URL"],
            data={"grant_type": "client_credentials", "scope": env["ORACLE_SCOPE"]},
            auth=(env["ORACLE_CLIENT_ID"], env["ORACLE_CLIENT_SECRET"]),
            timeout=10,
        )
        assert token.status_code == 200
        accounts = requests.get(
            env["ORACLE_BASE_URL"] + env["ORACLE_RESOURCE_PATH"],
            params={"limit": "500", "onlyData": "true", "totalResults": "true"},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=10,
        )
        assert accounts.json()["totalResults"] == 50
        lists = requests.get(
            env["MAILCHIMP_API_BASE"] + "/lists/" + env["MAILCHIMP_LIST_ID"],
            auth=("anystring", env["MAILCHIMP_API_KEY"]),
            timeout=10,
        )
        assert lists.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Sandbox stopped." in out


def test_taken_port_is_one_readable_line_and_nonzero_exit() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [CLI, "sandbox", "serve", "--fusion-port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert result.stderr.strip() == f"oracle-mailchimp: sandbox: port {port} on 127.0.0.1 is already in use"
    assert "Traceback" not in result.stderr


def test_bad_flag_is_one_readable_line() -> None:
    result = subprocess.run(
        [CLI, "sandbox", "serve", "--latency", "fast"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "oracle-mailchimp: Invalid value for '--latency': 'fast' is not one of 'none', 'realistic'."
    ]
