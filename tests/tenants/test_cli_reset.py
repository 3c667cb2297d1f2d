"""`tenants update`, `tenants import` and `tenants reset` with settings the sync state depends on, run
through the real CLI: a refusal is one line and writes nothing; `--reset-state` changes and resets in
one transaction; `tenants reset` forgets the state on request."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from oracle_mailchimp_dagster.store import Database, SyncStore
from oracle_mailchimp_dagster.tenants import TenantRegistry
from tests.fixtures.store import CliResult
from tests.support.sync_state import SEEDED_MARK, StateSnapshot, is_empty, seed_state, snapshot
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET, config, secrets, settings

Run = Callable[..., CliResult]
NEW_LIST = "z9y8x7w6v5"
KEY_IN_US21 = "fedcba9876543210fedcba9876543210-us21"
WAYS_ON = (
    "add --reset-state to reset them (the next sync loads the audience fully), or leave the setting as it is"
)
REFUSED_LIST_CHANGE = (
    "oracle-mailchimp: tenants update acme: changing the Mailchimp list id (a1b2c3d4e5 -> z9y8x7w6v5) makes "
    "the stored member state and mark meaningless for the new audience; add --reset-state to reset them "
    "(the next sync loads the audience fully), or leave the setting as it is"
)


@pytest.fixture
def cli(cli_env: Database, registry: TenantRegistry, run_cli: Run) -> Run:
    """The CLI on a test database holding tenant acme with a committed run's state."""
    registry.add(config(), secrets())
    seed_state(registry.db, "acme")
    return run_cli


def one_error_line(result: CliResult) -> str:
    assert result.code == 2, result
    assert result.out == "", result
    assert result.err.startswith("oracle-mailchimp: ") and result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err
    return result.err.strip()


def one_output_line(result: CliResult) -> str:
    assert result.code == 0, result
    assert result.err == "" and result.out.count("\n") == 1, result
    return result.out.strip()


def unchanged(registry: TenantRegistry, before: StateSnapshot) -> None:
    """Configuration, secrets, member state, retry queue and mark are as they were."""
    assert registry.get("acme") == config()
    assert registry.mailchimp_secret(config()).get_secret_value() == MAILCHIMP_KEY
    assert snapshot(registry.db, "acme") == before
    assert before.mark == SEEDED_MARK and len(before.members) == 3


def test_update_refuses_a_list_change_in_one_line_and_writes_nothing(
    cli: Run, registry: TenantRegistry
) -> None:
    before = snapshot(registry.db, "acme")
    assert (
        one_error_line(cli("tenants", "update", "acme", "--mailchimp-list-id", NEW_LIST))
        == REFUSED_LIST_CHANGE
    )
    unchanged(registry, before)


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        # A new host needs the credential sent there again (tests/tenants/test_bad_inputs.py).
        (
            ["--oracle-base-url", "https://globex.fa.em2.oraclecloud.com", "--oracle-client-secret-env", "S"],
            "the Oracle pod URL",
        ),
        (["--oracle-resource-path", "/crmRestApi/resources/latest/accounts"], "the Oracle resource path"),
        (
            ["--mailchimp-api-base", "http://127.0.0.1:18002/3.0", "--mailchimp-api-key-env", "KEY_IN_US6"],
            "the Mailchimp account (API base)",
        ),
        (["--mailchimp-api-key-env", "KEY_IN_US21"], "the Mailchimp account (API base)"),
    ],
)
def test_update_refuses_every_setting_the_state_depends_on(
    cli: Run, registry: TenantRegistry, monkeypatch: pytest.MonkeyPatch, flags: list[str], named: str
) -> None:
    monkeypatch.setenv("KEY_IN_US21", KEY_IN_US21)
    monkeypatch.setenv("KEY_IN_US6", MAILCHIMP_KEY)
    monkeypatch.setenv("S", ORACLE_SECRET)
    before = snapshot(registry.db, "acme")
    # Other settings given alongside are not written either.
    message = one_error_line(cli("tenants", "update", "acme", *flags, "--schedule", "0 6 * * *"))
    assert message.startswith(f"oracle-mailchimp: tenants update acme: changing {named} (")
    assert message.endswith(WAYS_ON)
    assert KEY_IN_US21 not in message and MAILCHIMP_KEY not in message
    unchanged(registry, before)


def test_update_with_reset_state_applies_the_change_and_resets(cli: Run, registry: TenantRegistry) -> None:
    result = cli("tenants", "update", "acme", "--mailchimp-list-id", NEW_LIST, "--reset-state")
    assert one_output_line(result) == (
        "updated tenant acme; state reset: 3 members, 1 queued retry, mark cleared; "
        "the next sync loads the audience fully"
    )
    assert registry.get("acme").mailchimp.list_id == NEW_LIST
    assert is_empty(snapshot(registry.db, "acme"))
    shown = json.loads(cli("tenants", "show", "acme", "--json").out)
    assert shown["sync_state"]["mark_timestamp"] is None
    assert "# sync: no mark, the next run reads every customer; last run seed-run at " in (
        cli("tenants", "show", "acme").out
    )
    [reset] = SyncStore(registry.db).ledger.for_customer("acme", "*")
    assert (reset.action, reset.outcome) == ("reset", "reset")
    assert reset.detail is not None and "the Mailchimp list id (a1b2c3d4e5 -> z9y8x7w6v5)" in reset.detail


def test_reset_state_without_such_a_change_keeps_the_state_and_says_so(
    cli: Run, registry: TenantRegistry
) -> None:
    before = snapshot(registry.db, "acme")
    line = one_output_line(cli("tenants", "update", "acme", "--schedule", "0 6 * * *", "--reset-state"))
    assert line == (
        "updated tenant acme; state kept: no setting it depends on changed "
        "(to reset it anyway: oracle-mailchimp tenants reset acme --yes)"
    )
    assert registry.get("acme").schedule.cron == "0 6 * * *"
    assert snapshot(registry.db, "acme") == before


def test_reset_without_yes_refuses_when_it_cannot_ask(cli: Run, registry: TenantRegistry) -> None:
    before = snapshot(registry.db, "acme")
    assert one_error_line(cli("tenants", "reset", "acme", stdin="")) == (
        "oracle-mailchimp: resetting tenant 'acme' deletes its member state, retry queue and mark "
        "(the next sync loads the audience fully): add --yes"
    )
    unchanged(registry, before)
    assert one_error_line(cli("tenants", "reset", "nobody", "--yes")) == (
        "oracle-mailchimp: no tenant 'nobody': see `oracle-mailchimp tenants list`"
    )


def test_reset_with_yes_forgets_the_state_and_the_ledger_shows_it(cli: Run, registry: TenantRegistry) -> None:
    line = one_output_line(cli("tenants", "reset", "acme", "--yes"))
    prefix = (
        "reset tenant acme: 3 members, 1 queued retry, mark cleared; the next sync loads the audience fully"
    )
    assert line.startswith(prefix + " (recorded in the ledger: oracle-mailchimp audit acme --run reset-")
    assert is_empty(snapshot(registry.db, "acme")) and registry.get("acme") == config()
    run_id = line.rsplit("--run ", 1)[1].rstrip(")")
    audit = cli("audit", "acme", "--run", run_id, "--json")
    assert audit.code == 0, audit
    rows = json.loads(audit.out)
    assert [(row["customer_key"], row["outcome"]) for row in rows] == [("*", "reset")]
    again = one_output_line(cli("tenants", "reset", "acme", "--yes"))
    assert again.startswith("reset tenant acme: 0 members, 0 queued retries, no mark;")


def write_tenants(path: Path, *tenants: dict[str, Any]) -> Path:
    """A tenants file; secrets by reference to ACME_ORACLE_SECRET and ACME_MAILCHIMP_KEY."""
    documents = []
    for tenant in tenants:
        entry = {**tenant, "oracle": {**tenant["oracle"], "client_secret_env": "ACME_ORACLE_SECRET"}}
        entry["mailchimp"] = {**tenant["mailchimp"], "api_key_env": "ACME_MAILCHIMP_KEY"}
        documents.append(entry)
    path.write_text(yaml.safe_dump({"tenants": documents}), encoding="utf-8")
    return path


@pytest.fixture
def import_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """acme moved to another audience, and a new tenant globex."""
    monkeypatch.setenv("ACME_ORACLE_SECRET", ORACLE_SECRET)
    monkeypatch.setenv("ACME_MAILCHIMP_KEY", MAILCHIMP_KEY)
    return write_tenants(
        tmp_path / "tenants.yaml", settings("acme", mailchimp={"list_id": NEW_LIST}), settings("globex")
    )


def test_import_refuses_in_one_line_and_writes_nothing(
    cli: Run, registry: TenantRegistry, import_file: Path
) -> None:
    before = snapshot(registry.db, "acme")
    message = one_error_line(cli("tenants", "import", str(import_file)))
    assert message == (
        f"oracle-mailchimp: tenants import {import_file}: tenant 'acme': changing the Mailchimp list id "
        "(a1b2c3d4e5 -> z9y8x7w6v5) makes the stored member state and mark meaningless for the new audience; "
        + WAYS_ON
    )
    unchanged(registry, before)
    assert [tenant.id for tenant in registry.list_all()] == ["acme"]  # globex was not created either


def test_import_with_reset_state_resets_the_changed_tenant(
    cli: Run, registry: TenantRegistry, import_file: Path
) -> None:
    line = one_output_line(cli("tenants", "import", str(import_file), "--reset-state"))
    assert line == (
        f"imported 2 tenant(s) from {import_file}: created globex; updated acme; "
        "state reset: acme (3 members, 1 queued retry, mark cleared); the next sync loads the audience fully"
    )
    assert registry.get("acme").mailchimp.list_id == NEW_LIST
    assert is_empty(snapshot(registry.db, "acme"))
    # Importing the same file again changes nothing the state depends on: no flag needed, no reset.
    seed_state(registry.db, "acme")
    assert one_output_line(cli("tenants", "import", str(import_file))).endswith(
        "created none; updated acme, globex"
    )
    assert snapshot(registry.db, "acme").mark == SEEDED_MARK


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite: covered in-process
def test_a_real_subprocess_refuses_in_one_line(cli: Run, cli_env: Database, registry: TenantRegistry) -> None:
    executable = Path(sys.executable).parent / "oracle-mailchimp"
    before = snapshot(registry.db, "acme")
    done = subprocess.run(
        [str(executable), "tenants", "update", "acme", "--mailchimp-list-id", NEW_LIST],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (2, "", REFUSED_LIST_CHANGE + "\n")
    unchanged(registry, before)
