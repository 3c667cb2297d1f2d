"""Through real processes: a failing `oracle-mailchimp sync` and a failing run the daemon launched for a
sensor both reach the tenant's webhook (a receiver on 127.0.0.1) through `dagster-daemon run`'s
sensors, each once, with no secret in the posts or the daemon's output."""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from oracle_mailchimp_dagster.local.demo_workspace import LocalWorkspace
from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from oracle_mailchimp_dagster.store.records import SecretName
from oracle_mailchimp_dagster.tenants.env_file import secrets_from_env, tenant_from_env
from tests.alerts.webhook_receiver import WEBHOOK_TOKEN, Received, WebhookReceiver
from tests.support.dagster_dev import REPO, poll

BIN = Path(sys.executable).parent
ALERT_DEADLINE_S = 120.0
STOP_TIMEOUT_S = 30.0
TENANT = "failing"
# Dagster's instance for this test: runs the sensors request are launched (one at a time).
INSTANCE_YAML = "telemetry:\n  enabled: false\nconcurrency:\n  runs:\n    max_concurrent_runs: 1\n"


def _default_signals() -> None:
    """SIGINT and SIGTERM back to their defaults in the child (a background job inherits them ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def dagster_daemon(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`dagster-daemon run -w workspace.yaml` of this repository, stopped with SIGTERM (its process
    group is killed if it has not stopped in time)."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_signals,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT_S)


def test_failed_runs_reach_the_tenant_webhook_through_the_daemon(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    workspace = LocalWorkspace(tmp_path / "dagster_home")
    workspace.write_instance_config(INSTANCE_YAML)
    env = {k: v for k, v in workspace.child_env(os.environ).items() if k != "ORACLE_MAILCHIMP_CRASH_AT"}
    with SandboxPair(SandboxOptions(customers=20)) as pair:
        sandbox = pair.env()
        registry = workspace.open_registry()
        tenant = tenant_from_env(TENANT, {**sandbox, "MAILCHIMP_LIST_ID": "nolist0000"})
        secrets = {**secrets_from_env(sandbox), SecretName.ALERT_WEBHOOK_URL: SecretStr(webhook.url)}
        registry.add(tenant, secrets)
        registry.db.dispose()
        started = time.monotonic()
        sync = subprocess.run(
            [str(BIN / "oracle-mailchimp"), "sync", TENANT],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sync.returncode == 1, sync
        found = re.search(r"run (\S+) failed: ", sync.stderr)
        assert found is not None, sync.stderr
        cli_run = found.group(1)

        log_path = tmp_path / "daemon.log"
        with dagster_daemon(env, log_path) as daemon:

            def alerts() -> tuple[Received, Received] | None:
                assert daemon.poll() is None, log_path.read_text(errors="replace")
                posts = webhook.posts()
                cli = [p for p in posts if cli_run in p.json()["text"]]
                by_sensor = [p for p in posts if "(launched by oracle_change)" in p.json()["text"]]
                return (cli[0], by_sensor[0]) if cli and by_sensor else None

            cli_alert, sensor_alert = poll(alerts, ALERT_DEADLINE_S, "both failed runs reach the webhook")
            elapsed = time.monotonic() - started
        daemon_log = log_path.read_text(errors="replace")

    cli_text = cli_alert.json()["text"]
    assert cli_text.startswith(f"[oracle-mailchimp] tenant {TENANT}: run {cli_run[:8]} of tenant_sync_job ")
    assert "(launched by cli) failed in step mailchimp_members" in cli_text and "nolist0000" in cli_text
    assert "failed in step mailchimp_members" in sensor_alert.json()["text"]
    posts = webhook.posts()
    texts = [p.json()["text"] for p in posts]
    assert len(texts) == len(set(texts))  # each alert posted once
    assert all(p.path == f"/services/{WEBHOOK_TOKEN}" and set(p.json()) == {"text"} for p in posts)
    for secret in (sandbox["ORACLE_CLIENT_SECRET"], sandbox["MAILCHIMP_API_KEY"], WEBHOOK_TOKEN):
        for text in (*(p.body.decode() for p in posts), daemon_log, sync.stdout, sync.stderr):
            assert secret not in text
    print(f"alerts delivered {elapsed:.1f} s after the failing sync started")
