"""`oracle-mailchimp sync` against both sandboxes, the real app database and a real DAGSTER_HOME instance."""

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pydantic import SecretStr

from oracle_mailchimp_dagster.cli.sync import customer_keys, failure_reason, flag_names
from oracle_mailchimp_dagster.defs.run_tags import TENANT_TAG, TRIGGER_TAG
from oracle_mailchimp_dagster.store import SecretName
from tests.fixtures.store import CliResult
from tests.fixtures.sync import SyncHarness
from tests.support.scenario import sole_holders

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))
RunCli = Callable[..., CliResult]


REPO_DAGSTER_YAML = Path(__file__).parents[2] / "dagster.yaml"


@pytest.fixture
def harness(sync_harness: SyncHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SyncHarness:
    """The harness, with DAGSTER_HOME set up as the README says (a directory with the repo's dagster.yaml)."""
    home = tmp_path / "cli_dagster_home"
    home.mkdir()
    shutil.copy(REPO_DAGSTER_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return sync_harness


def recorded_runs() -> list[dg.DagsterRun]:
    with dg.DagsterInstance.get() as instance:
        return list(instance.get_runs())


def assert_no_secret(h: SyncHarness, *texts: str) -> None:
    secrets = (h.fusion.config.client_secret.get_secret_value(), h.mailchimp.config.api_key)
    for text in texts:
        for secret in secrets:
            assert secret not in text


def assert_one_line_error(result: CliResult) -> None:
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("oracle-mailchimp: ")
    assert "Traceback" not in result.output


def sync_json(h: SyncHarness, run_cli: RunCli, *args: str) -> dict[str, Any]:
    result = run_cli("sync", "acme", "--json", *args)
    assert result.code == 0, result.output
    assert_no_secret(h, result.output)
    report: dict[str, Any] = json.loads(result.out)
    assert report["success"] is True
    return report


def ledger_keys(h: SyncHarness, run_id: str) -> set[str]:
    return {e.customer_key for e in h.store.ledger.for_run("acme", run_id)}


def test_sync_prints_a_summary_and_the_run_is_in_the_instance(harness: SyncHarness, run_cli: RunCli) -> None:
    h = harness
    result = run_cli("sync", "acme")
    assert result.code == 0, result.output
    assert result.err == ""  # Dagster's event log stays in the instance without --verbose
    assert_no_secret(h, result.output)

    match = re.search(r"run (\S+) succeeded in [\d.]+ s", result.out)
    assert match, result.out
    run_id = match.group(1)
    ledger = h.store.ledger.for_run("acme", run_id)
    assert len(ledger) == len(h.customers())
    outcomes = Counter(e.outcome for e in ledger)
    assert f"read:      {len(ledger)} customers from Oracle" in result.out
    assert "selection: incremental, LastUpdateDate from beginning to " in result.out
    outcome_line = next(line for line in result.out.splitlines() if line.strip().startswith("outcomes:"))
    for outcome, count in outcomes.items():
        assert f"{outcome} {count}" in outcome_line
    assert re.search(r"mark:      none -> \S+ / PartyId \d+", result.out)
    failed = [e for e in ledger if e.outcome.startswith("failed")]
    shown = "all" if len(failed) <= 5 else "the first 5"
    assert failed and f"failures:  {len(failed)} ({shown} below)" in result.out
    assert failed[0].customer_key in result.out
    assert result.out.rstrip().endswith(f"see all records: oracle-mailchimp audit acme --run {run_id}")

    with dg.DagsterInstance.get() as instance:
        assert Path(instance.root_directory) == Path(os.environ["DAGSTER_HOME"])
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags[TENANT_TAG] == "acme" and run.tags[TRIGGER_TAG] == "cli"
        assert [r.run_id for r in instance.get_runs()] == [run_id]
    assert len(h.members()) == outcomes["created"]


def test_sync_json_summary_matches_the_ledger(harness: SyncHarness, run_cli: RunCli) -> None:
    h = harness
    report = sync_json(h, run_cli)
    counts = h.store.ledger.outcome_counts("acme", report["run_id"])
    assert {k: v for k, v in report["outcomes"].items() if v} == counts
    assert report["ledger_rows"] == sum(counts.values()) == report["rows_read"] == len(h.customers())
    assert sum(report["planned"].values()) == report["rows_read"]
    assert report["mode"] == "incremental" and report["error"] is None
    assert report["mark_before"] == "none" and report["mark_after"] != "none"
    assert report["audit_command"] == f"oracle-mailchimp audit acme --run {report['run_id']}"
    sample = report["failures_sample"]
    assert 0 < len(sample) <= 5 and all(row["outcome"].startswith("failed") for row in sample)
    assert all(row["run_id"] == report["run_id"] for row in sample)

    second = sync_json(h, run_cli)  # nothing changed: everything read again is unchanged or skipped
    assert second["mark_before"] == report["mark_after"]
    assert second["outcomes"]["created"] == 0 and second["outcomes"]["updated"] == 0


def test_dry_run_writes_nothing(harness: SyncHarness, run_cli: RunCli) -> None:
    h = harness
    report = sync_json(h, run_cli, "--dry-run")
    assert report["dry_run"] is True
    assert sum(report["outcomes"].values()) == report["rows_read"] == len(h.customers())
    assert report["outcomes"]["planned"] > 200 and report["outcomes"]["created"] == 0
    assert report["ledger_rows"] == 0 and report["audit_command"] is None
    assert h.members() == {}
    assert h.store.ledger.for_run("acme", report["run_id"]) == []
    assert h.store.marks.get("acme") is None
    text = run_cli("sync", "acme", "--dry-run")
    assert text.code == 0
    assert "dry run: nothing was sent, recorded or moved" in text.out and "see all records" not in text.out
    assert h.members() == {}


def test_every_replay_route_takes_the_expected_customers(harness: SyncHarness, run_cli: RunCli) -> None:
    h = harness
    first = sync_json(h, run_cli)
    ledger = h.store.ledger.for_run("acme", first["run_id"])
    failed = {e.customer_key for e in ledger if e.outcome.startswith("failed")}
    assert failed

    replay = sync_json(h, run_cli, "--replay-run", first["run_id"], "--failed-only")
    assert replay["mode"] == "keys" and ledger_keys(h, replay["run_id"]) == failed

    one, two, three = (c["PartyNumber"] for c in sole_holders(h.customers(), 3))
    by_key = sync_json(h, run_cli, "--customer", one, "--customer", f"{two},{three}")
    assert ledger_keys(h, by_key["run_id"]) == {one, two, three}

    stamps = sorted(c["LastUpdateDate"] for c in h.customers())
    since, until = stamps[100], stamps[150]
    window = sync_json(h, run_cli, "--since", since, "--until", until)
    in_window = {c["PartyNumber"] for c in h.customers() if since <= c["LastUpdateDate"] < until}
    assert window["mode"] == "window" and ledger_keys(h, window["run_id"]) == in_window

    full = sync_json(h, run_cli, "--full")
    assert full["mode"] == "full"
    assert ledger_keys(h, full["run_id"]) == {c["PartyNumber"] for c in h.customers()}
    assert full["mark_after"] == first["mark_after"]  # replays never move the mark back


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--full", "--since", "2026-01-01"],
            "choose one of --full, --since/--until, --replay-run, --customer",
        ),
        (["--full", "--customer", "X"], "(got --full, --customer)"),
        (["--failed-only"], "--failed-only needs --replay-run"),
        (["--until", "2026-01-01"], "--until needs --since"),
        (["--since", "yesterday"], "--since 'yesterday' is not an ISO 8601 timestamp"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "--until (2026-01-01) must be after --since"),
        (["--replay-run", "r1", "--customer", "X"], "(got --replay-run, --customer)"),
        (["--replay-run", "no-such-run"], "run 'no-such-run' has no ledger rows for tenant 'acme'"),
        (["--dry-run", "--bogus"], "No such option '--bogus'"),
    ],
)
def test_bad_usage_exits_2_with_one_line_and_starts_nothing(
    harness: SyncHarness, run_cli: RunCli, args: list[str], message: str
) -> None:
    result = run_cli("sync", "acme", *args)
    assert result.code == 2
    assert_one_line_error(result)
    assert message in result.err
    assert result.out == ""
    assert recorded_runs() == []


def test_unknown_tenant_is_one_line(harness: SyncHarness, run_cli: RunCli) -> None:
    result = run_cli("sync", "nobody")
    assert result.code != 0
    assert_one_line_error(result)
    assert "no tenant 'nobody'" in result.err


def test_dagster_home_must_be_set_and_absolute(
    harness: SyncHarness, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME")
    unset = run_cli("sync", "acme")
    assert unset.code == 2
    assert_one_line_error(unset)
    assert "DAGSTER_HOME is not set" in unset.err and "export DAGSTER_HOME=$PWD/.dagster_home" in unset.err

    monkeypatch.setenv("DAGSTER_HOME", "relative/home")
    relative = run_cli("sync", "acme")
    assert relative.code == 2
    assert_one_line_error(relative)
    assert "DAGSTER_HOME must be an absolute path, not 'relative/home'" in relative.err
    assert harness.members() == {}


def test_mapping_problem_fails_the_run_with_exit_1_and_one_line(
    harness: SyncHarness, run_cli: RunCli
) -> None:
    h = harness
    tenant = h.registry.get("acme")
    fields = {**tenant.mapping.merge_fields, "NOSUCH": "OrganizationName"}
    h.registry.update(
        tenant.model_copy(update={"mapping": tenant.mapping.model_copy(update={"merge_fields": fields})})
    )

    result = run_cli("sync", "acme")
    assert result.code == 1
    assert_one_line_error(result)
    assert "failed: tenant 'acme': the mapping does not fit audience" in result.err
    assert "NOSUCH" in result.err
    assert re.search(r"run \S+ FAILED in", result.out)
    assert "nothing was settled: the ledger and the mark are as they were" in result.out
    assert "see all records" not in result.out
    assert h.members() == {} and h.store.marks.get("acme") is None
    assert_no_secret(h, result.output)

    as_json = run_cli("sync", "acme", "--json")
    assert as_json.code == 1
    report = json.loads(as_json.out)
    assert report["success"] is False and "NOSUCH" in report["error"]
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert len(runs) == 2 and all(r.status == dg.DagsterRunStatus.FAILURE for r in runs)


def test_wrong_oracle_secret_fails_the_run_without_showing_any_secret(
    harness: SyncHarness, run_cli: RunCli
) -> None:
    h = harness
    wrong = "wrong-secret-value-9f3a"
    h.registry.update(h.registry.get("acme"), {SecretName.ORACLE_CLIENT_SECRET: SecretStr(wrong)})
    result = run_cli("sync", "acme", "--verbose")  # Dagster's event log too
    assert result.code == 1
    assert result.err.splitlines()[-1].endswith(
        "failed: Oracle Fusion tenant 'acme': the identity domain rejected OAuth client "
        "'fusion-sandbox-client' (HTTP 401 invalid_client): check the client id and client secret."
    )
    assert "STEP_FAILURE" in result.err  # --verbose: Dagster's event log came first
    assert wrong not in result.output
    assert_no_secret(h, result.output)
    assert h.members() == {}


def test_subprocess_sync_creates_dagster_home_then_a_failing_run_exits_1(
    harness: SyncHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    home = tmp_path / "fresh" / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    env = dict(os.environ)
    ok = subprocess.run([CLI, "sync", "acme", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""
    report = json.loads(ok.stdout)
    assert report["success"] and report["ledger_rows"] == len(h.customers())
    assert home.is_dir()
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(report["run_id"])
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS

    tenant = h.registry.get("acme")
    h.registry.update(
        tenant.model_copy(
            update={"mailchimp": tenant.mailchimp.model_copy(update={"list_id": "nosuchlist"})}
        ),
        reset_state=True,  # another audience: the stored state means nothing there
    )
    failed = subprocess.run(
        [CLI, "sync", "acme", "--full"], env=env, capture_output=True, text=True, timeout=120
    )
    assert failed.returncode == 1
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert failed.stderr.startswith("oracle-mailchimp: run ") and "Traceback" not in failed.stderr
    assert "failed: Mailchimp " in failed.stderr and "nosuchlist" in failed.stderr
    assert "FAILED" in failed.stdout
    assert_no_secret(h, ok.stdout, ok.stderr, failed.stdout, failed.stderr)


def test_flag_names_translate_outside_quotes_only() -> None:
    assert flag_names("failed_only needs replay_run_id") == "--failed-only needs --replay-run"
    assert flag_names("since 'full since' is bad") == "--since 'full since' is bad"
    assert flag_names("until needs since") == "--until needs --since"


def test_customer_keys_split_on_commas_and_repeat() -> None:
    assert customer_keys(("A", "B, C", "A", " ,")) == ("A", "B", "C")


def test_failure_reason_is_the_error_on_one_line() -> None:
    assert failure_reason("tenant 'x': no\n  fix it") == "tenant 'x': no fix it"
    assert failure_reason("KeyError: 'a.b'") == "KeyError: 'a.b'"
    assert failure_reason(None) == "see the run's event log in the Dagster UI"
