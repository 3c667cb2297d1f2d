"""`oracle-mailchimp demo` as a user runs it: a real process, the real sandbox and real Dagster runs."""

import re
import subprocess
import sys
from pathlib import Path

import dagster as dg

from oracle_mailchimp_dagster.sandbox.fusion import FusionSandboxConfig
from oracle_mailchimp_dagster.sandbox.mailchimp import MailchimpSandboxConfig

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))
TIMEOUT_S = 120

# Each kind of change, the outcome run 2 must record for it, and the demo's own verdict.
CHANGES = {
    "new customer": "created",
    "company renamed": "updated",
    "email address changed": "email_changed",
    "inactivated in Oracle": "unsubscribed",
    "unsubscribed in Mailchimp, then renamed in Oracle": "updated",
}


def run_demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "demo", "--customers", "200", "--latency", "none", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def sandbox_secrets() -> list[str]:
    fusion = FusionSandboxConfig()
    mailchimp = MailchimpSandboxConfig()
    return [
        fusion.client_secret.get_secret_value(),
        fusion.basic_password.get_secret_value(),
        mailchimp.api_key,
        mailchimp.api_key.split("-")[0],
        *mailchimp.oauth_tokens,
    ]


def member_row(out: str, because: str) -> list[str]:
    """The cells of the audience example row for one change (split on runs of 2+ spaces)."""
    rows = [line.strip() for line in out.splitlines() if line.rstrip().endswith(because)]
    return re.split(r"\s{2,}", rows[-1])


def test_demo_syncs_twice_and_shows_every_change_with_its_outcome(tmp_path: Path) -> None:
    result = run_demo(cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # The demo states its tenant's status, and what it means, as `tenants add --status-if-new` must.
    assert (
        "Tenant     demo: new members join as transactional: an ERP record is not marketing consent: "
        "contacts are added but cannot receive campaigns (a real tenant chooses: tenants add --status-if-new)"
    ) in out.splitlines()
    for change, outcome in CHANGES.items():
        assert re.search(rf"^\s+{re.escape(change)}\s+CDRM_\d+\s+{outcome}\s+ok$", out, re.MULTILINE), change
    runs = re.search(r"^\s+outcome: created\s+(\d+)\s+(\d+)$", out, re.MULTILINE)
    assert runs is not None and int(runs[1]) > 100 and int(runs[2]) == 1
    assert re.search(
        r"^\s+high-water mark before\s+none\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", out, re.MULTILINE
    )
    # The audience rows: the new member, the rename, the move (old address archived), the inactive
    # customer unsubscribed, and the contact who unsubscribed still unsubscribed with current data.
    assert member_row(out, "new customer")[:3] == [
        "hello@brandnew-widgets.io",
        "transactional",
        "Brand New Widgets GmbH",
    ]
    assert member_row(out, "company renamed")[1:3] == ["transactional", "Renamed Trading Co"]
    moved = [line for line in out.splitlines() if line.rstrip().endswith("email address changed")]
    assert sorted(re.split(r"\s{2,}", line.strip())[1] for line in moved[-2:]) == [
        "archived",
        "transactional",
    ]
    assert member_row(out, "inactivated in Oracle")[1] == "unsubscribed"
    kept = member_row(out, "unsubscribed in Mailchimp, then renamed in Oracle")
    assert kept[1:3] == ["unsubscribed", "Changed After Unsubscribing Ltd"]
    assert out.rstrip().endswith("every change ended as expected.")
    assert "Sandbox stopped." in out
    for secret in sandbox_secrets():
        assert secret not in out
    # Nothing written where it ran, and the temporary workspace is gone.
    assert list(tmp_path.iterdir()) == []
    workspace = re.search(r"^Workspace\s+(\S+) \(temporary", out, re.MULTILINE)
    assert workspace is not None and not Path(workspace[1]).exists()


def test_demo_workdir_keeps_a_dagster_home_with_both_runs_and_never_prints_the_master_key(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "demo-home"
    result = run_demo("--workdir", str(workdir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert {"dagster.yaml", "oracle_mailchimp.db", "oracle_mailchimp.key"} <= {
        p.name for p in workdir.iterdir()
    }
    with dg.DagsterInstance.from_config(str(workdir)) as instance:
        runs = instance.get_runs()
    assert [run.job_name for run in runs] == ["tenant_sync_job", "tenant_sync_job"]
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    assert {run.tags["dagster/partition"] for run in runs} == {"demo"}
    master_keys = [
        line
        for line in (workdir / "oracle_mailchimp.key").read_text().splitlines()
        if not line.startswith("#")
    ]
    assert master_keys
    for secret in [*sandbox_secrets(), *master_keys]:
        assert secret not in result.stdout + result.stderr


def test_a_failure_is_one_line_a_nonzero_exit_and_a_stopped_sandbox(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    result = run_demo("--workdir", str(blocker / "home"), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("oracle-mailchimp: demo failed: ")
    assert "Sandbox stopped." in result.stdout
