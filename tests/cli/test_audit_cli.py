"""`oracle-mailchimp audit` over the ledger rows real sync runs wrote (sandboxes, app database, Dagster)."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oracle_mailchimp_dagster.cli.audit import fit
from oracle_mailchimp_dagster.local.demo_workspace import LocalWorkspace
from oracle_mailchimp_dagster.secrets import KEY_FILE_ENV, MASTER_KEY_ENV
from oracle_mailchimp_dagster.store import DATABASE_URL_ENV, SecretName
from oracle_mailchimp_dagster.store.location import locate_database
from tests.fixtures.store import CliResult
from tests.fixtures.sync import SyncHarness
from tests.support.scenario import sole_holders
from tests.support.tenant_samples import config, secrets

CLI = str(Path(sys.executable).with_name("oracle-mailchimp"))
RunCli = Callable[..., CliResult]
ROW = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ")


def table_rows(out: str) -> list[str]:
    return [line for line in out.splitlines() if ROW.match(line)]


def assert_no_secret(h: SyncHarness, text: str) -> None:
    assert h.fusion.config.client_secret.get_secret_value() not in text
    assert h.mailchimp.config.api_key not in text
    for name in (SecretName.ORACLE_CLIENT_SECRET, SecretName.MAILCHIMP_API_KEY):
        assert h.registry.secret("acme", name).get_secret_value() not in text


def assert_one_line_error(result: CliResult, code: int = 2) -> None:
    assert result.code == code
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and result.err.startswith("oracle-mailchimp: ")


def synced(h: SyncHarness, **extract: Any) -> str:
    result = h.run(**extract)
    assert result.success
    return result.run_id


def test_audit_run_shows_every_record_of_the_run_in_order(sync_harness: SyncHarness, run_cli: RunCli) -> None:
    h = sync_harness
    run_id = synced(h)
    ledger = h.store.ledger.for_run("acme", run_id)
    assert len(ledger) == len(h.customers())

    result = run_cli("audit", "acme", "--run", run_id)
    assert result.code == 0, result.output
    lines = result.out.splitlines()
    assert lines[0].startswith(f"tenant acme, run {run_id}: {len(ledger)} rows (")
    assert " ".join(lines[1].split()) == "RECORDED_AT RUN CUSTOMER EMAIL ACTION OUTCOME STATUS TITLE: DETAIL"
    rows = table_rows(result.out)
    assert len(rows) == len(ledger) == len(lines) - 2
    assert [row.split()[3] for row in rows] == [e.customer_key for e in ledger]
    assert all(row.split()[2] == run_id[:8] for row in rows)
    failed = next(i for i, e in enumerate(ledger) if e.outcome == "failed_invalid")
    assert rows[failed].split()[6:8] == ["failed_invalid", f"{ledger[failed].title}:"]
    assert_no_secret(h, result.output)

    as_json = run_cli("audit", "acme", "--run", run_id, "--json")
    assert as_json.code == 0
    parsed = json.loads(as_json.out)
    assert [r["id"] for r in parsed] == [e.id for e in ledger]
    assert (
        parsed[failed]["detail"] == ledger[failed].detail and parsed[failed]["title"] == ledger[failed].title
    )
    assert set(parsed[0]) == {
        "id",
        "tenant_id",
        "run_id",
        "customer_key",
        "email",
        "action",
        "outcome",
        "http_status",
        "title",
        "detail",
        "attempt",
        "recorded_at",
    }
    assert_no_secret(h, as_json.output)


def test_limit_caps_the_rows_and_says_so(sync_harness: SyncHarness, run_cli: RunCli) -> None:
    h = sync_harness
    run_id = synced(h)
    ledger = h.store.ledger.for_run("acme", run_id)
    result = run_cli("audit", "acme", "--run", run_id, "--limit", "7")
    assert result.code == 0
    assert [row.split()[3] for row in table_rows(result.out)] == [e.customer_key for e in ledger[:7]]
    assert "showing the first 7; drop --limit to see all" in result.out
    as_json = json.loads(run_cli("audit", "acme", "--run", run_id, "--limit", "7", "--json").out)
    assert [r["id"] for r in as_json] == [e.id for e in ledger[:7]]


def test_audit_customer_shows_history_across_runs_newest_first(
    sync_harness: SyncHarness, run_cli: RunCli
) -> None:
    h = sync_harness
    first = synced(h)
    (customer,) = sole_holders(h.customers(), 1)
    key = customer["PartyNumber"]
    second = synced(h, customer_keys=[key])

    result = run_cli("audit", "acme", "--customer", key)
    assert result.code == 0, result.output
    assert f"tenant acme, customer {key}: 2 rows, newest first" in result.out
    rows = table_rows(result.out)
    assert [row.split()[2] for row in rows] == [second[:8], first[:8]]
    assert rows[1].split()[5:7] == ["upsert", "created"]
    email = customer["EmailAddress"].strip().lower()
    assert rows[0].split()[4] == fit(email, 32).strip()  # long addresses are cut with an ellipsis

    parsed = json.loads(run_cli("audit", "acme", "--customer", key, "--json").out)
    assert [r["run_id"] for r in parsed] == [second, first]
    assert {r["customer_key"] for r in parsed} == {key} and {r["email"] for r in parsed} == {email}

    limited = json.loads(run_cli("audit", "acme", "--customer", key, "--limit", "1", "--json").out)
    assert [r["run_id"] for r in limited] == [second]

    unknown = run_cli("audit", "acme", "--customer", "CDRM_NOPE")
    assert unknown.code == 0 and unknown.out.strip() == "tenant acme, customer CDRM_NOPE: no ledger rows"


def test_without_run_or_customer_it_shows_the_latest_committed_run(
    sync_harness: SyncHarness, run_cli: RunCli
) -> None:
    h = sync_harness
    before = run_cli("audit", "acme")
    assert before.code == 0
    assert before.out.strip() == "tenant 'acme' has no committed run yet: oracle-mailchimp sync acme"
    assert json.loads(run_cli("audit", "acme", "--json").out) == []

    synced(h)
    keys = [c["PartyNumber"] for c in sole_holders(h.customers(), 2)]
    latest = synced(h, customer_keys=keys)
    assert h.run(dry_run=True, full=True).success  # commits nothing, so it is not the latest committed run
    result = run_cli("audit", "acme")
    assert result.code == 0
    assert result.out.startswith(f"tenant acme, run {latest}: 2 rows")
    # In the ledger's order (the run commits by address group, not in the order the keys were asked for).
    shown = [row.split()[3] for row in table_rows(result.out)]
    assert shown == [e.customer_key for e in h.store.ledger.for_run("acme", latest)]
    assert sorted(shown) == sorted(keys)


def test_bad_usage_and_unknown_names_are_one_line(sync_harness: SyncHarness, run_cli: RunCli) -> None:
    h = sync_harness
    run_id = synced(h)
    both = run_cli("audit", "acme", "--run", run_id, "--customer", "X")
    assert_one_line_error(both)
    assert "choose one of --run and --customer" in both.err

    assert_one_line_error(run_cli("audit", "acme", "--limit", "0"))

    for args in (["nobody"], ["nobody", "--run", run_id], ["nobody", "--customer", "X"]):
        unknown_tenant = run_cli("audit", *args)
        assert_one_line_error(unknown_tenant)
        assert "no tenant 'nobody'" in unknown_tenant.err

    unknown_run = run_cli("audit", "acme", "--run", "no-such-run", "--json")
    assert_one_line_error(unknown_run)
    assert "run 'no-such-run' has no ledger rows for tenant 'acme'" in unknown_run.err


def test_ledger_of_a_removed_tenant_stays_readable(sync_harness: SyncHarness, run_cli: RunCli) -> None:
    h = sync_harness
    run_id = synced(h)
    h.registry.remove("acme")
    result = run_cli("audit", "acme", "--run", run_id, "--json")
    assert result.code == 0
    assert len(json.loads(result.out)) == len(h.customers())


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [("abc", 5, "abc  "), ("abcdef", 5, "abcd…"), ("a\n b\tc", 6, "a b c "), (None, 3, "   ")],
)
def test_fit_makes_one_fixed_width_cell(text: str | None, width: int, expected: str) -> None:
    assert fit(text, width) == expected


def clean_shell_env() -> dict[str, str]:
    """A new shell's environment: no DAGSTER_HOME, no database URL, no key settings."""
    dropped = ("DAGSTER_HOME", DATABASE_URL_ENV, KEY_FILE_ENV, MASTER_KEY_ENV)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PATH"] = f"{Path(CLI).parent}:{env.get('PATH', '')}"
    return env


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`command` pasted into bash in `cwd`, as a person would."""
    return subprocess.run(
        ["bash", "-c", command], env=clean_shell_env(), cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_reading_never_creates_a_database_and_says_where_it_looked(tmp_path: Path) -> None:
    for leftover in (None, b""):  # nothing there, or an empty file an earlier version created
        if leftover is not None:
            (tmp_path / "oracle_mailchimp.db").write_bytes(leftover)
        before = sorted(p.name for p in tmp_path.iterdir())
        done = shell("oracle-mailchimp audit acme --run r1", tmp_path)
        assert done.returncode == 2 and done.stdout == ""
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("oracle-mailchimp: ")
        assert f"at {tmp_path / 'oracle_mailchimp.db'} (the working directory" in line
        assert "DAGSTER_HOME" in line and DATABASE_URL_ENV in line and "db upgrade" not in line
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created

    missing = shell("DAGSTER_HOME=/nowhere/home oracle-mailchimp audit acme", tmp_path)
    assert missing.returncode == 2
    assert "no app database at /nowhere/home/oracle_mailchimp.db (in $DAGSTER_HOME)" in missing.stderr
    assert not Path("/nowhere").exists()


def test_the_printed_command_works_from_any_shell_without_dagster_home(tmp_path: Path) -> None:
    workspace = LocalWorkspace(tmp_path / "home")
    registry = workspace.open_registry()
    registry.add(config("acme"), secrets())
    registry.db.dispose()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    printed = locate_database({"DAGSTER_HOME": str(workspace.dagster_home)}).command(
        "oracle-mailchimp audit acme"
    )
    assert printed == f"DAGSTER_HOME={workspace.dagster_home} oracle-mailchimp audit acme"
    done = shell(printed, elsewhere)
    assert done.returncode == 0, done
    assert done.stdout.strip() == "tenant 'acme' has no committed run yet: oracle-mailchimp sync acme"
    assert list(elsewhere.iterdir()) == []

    by_url = locate_database({DATABASE_URL_ENV: workspace.database_url}).command(
        "oracle-mailchimp audit acme"
    )
    assert by_url == f"{DATABASE_URL_ENV}={workspace.database_url} oracle-mailchimp audit acme"
    assert shell(by_url, elsewhere).returncode == 0


def test_a_database_url_with_a_password_is_named_never_printed() -> None:
    env = {DATABASE_URL_ENV: "postgresql://sync:s3cr3t-pw@db.example.com/sync", "DAGSTER_HOME": "/h"}
    command = locate_database(env).command("oracle-mailchimp audit acme --run r1")
    assert "s3cr3t-pw" not in command
    assert command == (
        f"oracle-mailchimp audit acme --run r1  # with {DATABASE_URL_ENV} set to the app database "
        "(postgresql+psycopg2://sync:***@db.example.com/sync)"
    )
    secret_param = {DATABASE_URL_ENV: "postgresql://sync@db/sync?sslpassword=hunter2"}
    assert "hunter2" not in locate_database(secret_param).command("oracle-mailchimp audit acme")
    trusted = locate_database({DATABASE_URL_ENV: "postgresql://sync@db/sync"}).command("x")
    assert trusted == f"{DATABASE_URL_ENV}=postgresql+psycopg2://sync@db/sync x"
    spaced = locate_database({"DAGSTER_HOME": "/my home"}).command("x")
    assert spaced == "DAGSTER_HOME='/my home' x"
