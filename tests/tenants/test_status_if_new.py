"""New members' status is a choice, never a silent default: `tenants add` and a new tenant in
`tenants import` must state it, and are told what each status means for campaigns and consent;
`tenants update` and an existing tenant in `tenants import` keep the stored one unless given."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from oracle_mailchimp_dagster.store import Database
from oracle_mailchimp_dagster.sync.rules import StatusIfNew
from oracle_mailchimp_dagster.tenants import TenantRegistry
from oracle_mailchimp_dagster.tenants.consent import MEANINGS, StatusNotStated, stored_status
from oracle_mailchimp_dagster.tenants.yaml_import import load_import_file
from tests.fixtures.store import CliResult, dump_database
from tests.support.cli_tenants import (
    ADD_FLAGS,
    MAILCHIMP_KEY_ENV,
    ORACLE_SECRET_ENV,
    STATUS_FLAGS,
    refusal_line,
)
from tests.support.tenant_samples import config, secrets, settings

Run = Callable[..., CliResult]
# Without the status flag (ADD_FLAGS starts with it).
NO_STATUS_FLAGS = ADD_FLAGS[len(STATUS_FLAGS) :]
# What every refusal and the help must say, whatever the wording around it.
EXPLAINED = (
    "transactional (an ERP record is not marketing consent: contacts are added but cannot receive campaigns)",
    "subscribed (only when you hold marketing consent: they receive campaigns)",
    "pending (Mailchimp emails each a double opt-in confirmation; they receive campaigns once they confirm)",
    "members already in the audience keep their status",
)


def explains_every_status(text: str) -> None:
    flat = " ".join(text.split())  # help text is wrapped
    for phrase in EXPLAINED:
        assert phrase in flat, flat


def test_every_status_has_a_meaning() -> None:
    assert set(MEANINGS) == set(StatusIfNew)


def test_add_without_the_status_is_refused_in_one_line_that_explains_each_value(
    cli: Run, db: Database, key_store: Any
) -> None:
    line = refusal_line(cli("tenants", "add", "acme", *NO_STATUS_FLAGS))
    assert line.startswith(
        "oracle-mailchimp: tenants add acme: choose the status of new members with --status-if-new"
    )
    explains_every_status(line)
    assert "acme" not in dump_database(db)
    assert not key_store.key_file.exists()  # refused before anything, even the key file, is written


def test_add_help_explains_each_value_and_that_it_is_required(cli: Run) -> None:
    shown = cli("tenants", "add", "--help")
    assert shown.code == 0
    assert "Required: there is no default." in " ".join(shown.out.split())
    explains_every_status(shown.out)
    update_help = " ".join(cli("tenants", "update", "--help").out.split())
    assert "Kept as stored unless given" in update_help
    explains_every_status(update_help)


@pytest.mark.parametrize("status", [s.value for s in StatusIfNew])
def test_add_stores_the_stated_status_and_says_what_it_means(
    cli: Run, registry: TenantRegistry, status: str
) -> None:
    added = cli("tenants", "add", "acme", "--status-if-new", status, *NO_STATUS_FLAGS)
    assert added.code == 0, added
    assert registry.get("acme").policy.status_if_new.value == status
    assert f"new members join as {status}: {MEANINGS[StatusIfNew(status)]}" in added.out


def test_update_keeps_the_stored_status_unless_given(cli: Run, registry: TenantRegistry) -> None:
    assert cli("tenants", "add", "acme", "--status-if-new", "pending", *NO_STATUS_FLAGS).code == 0
    assert cli("tenants", "update", "acme", "--schedule", "*/5 * * * *").code == 0
    kept = registry.get("acme")
    assert (kept.policy.status_if_new, kept.schedule.cron) == (StatusIfNew.PENDING, "*/5 * * * *")
    assert cli("tenants", "update", "acme", "--status-if-new", "subscribed").code == 0
    assert registry.get("acme").policy.status_if_new is StatusIfNew.SUBSCRIBED


def without_status(tenant_id: str, **overrides: Any) -> dict[str, Any]:
    entry = settings(tenant_id, **overrides)
    del entry["policy"]
    return entry


def import_file(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    path = tmp_path / "tenants.yaml"
    for entry in entries:
        entry["oracle"] = {**entry["oracle"], "client_secret_env": ORACLE_SECRET_ENV}
        entry["mailchimp"] = {**entry["mailchimp"], "api_key_env": MAILCHIMP_KEY_ENV}
    path.write_text(yaml.safe_dump({"tenants": list(entries)}), encoding="utf-8")
    return path


def test_import_refuses_a_new_tenant_without_the_status_and_writes_nothing(
    cli: Run, registry: TenantRegistry, db: Database, tmp_path: Path
) -> None:
    registry.add(config("acme", policy={"status_if_new": "pending"}), secrets())
    before = dump_database(db)
    file = import_file(
        tmp_path,
        without_status("acme", display_name="Acme renamed"),
        without_status("globex"),
        without_status("initech"),
    )
    line = refusal_line(cli("tenants", "import", str(file)))
    assert line.startswith(
        f"oracle-mailchimp: tenants import {file}: new tenants 'globex', 'initech': choose the status of "
        "new members with policy.status_if_new in the file: "
    )
    explains_every_status(line)
    assert dump_database(db) == before  # acme not updated either: the file lands whole or not at all


def test_import_keeps_an_existing_tenants_status_and_takes_a_stated_one(
    cli: Run, registry: TenantRegistry, tmp_path: Path
) -> None:
    registry.add(config("acme", policy={"status_if_new": "pending"}), secrets())
    registry.add(config("globex", policy={"status_if_new": "pending"}), secrets())
    file = import_file(
        tmp_path,
        without_status("acme", display_name="Acme renamed"),
        settings("globex", policy={"status_if_new": "subscribed"}),
        settings("initech", policy={"status_if_new": "transactional"}),
    )
    imported = cli("tenants", "import", str(file))
    assert imported.code == 0, imported
    assert "created initech; updated acme, globex" in imported.out
    acme = registry.get("acme")
    assert (acme.display_name, acme.policy.status_if_new) == ("Acme renamed", StatusIfNew.PENDING)
    assert registry.get("globex").policy.status_if_new is StatusIfNew.SUBSCRIBED
    assert registry.get("initech").policy.status_if_new is StatusIfNew.TRANSACTIONAL


def test_the_registry_refuses_an_unstated_new_tenant_before_the_key_file_exists(
    registry: TenantRegistry, key_store: Any
) -> None:
    with pytest.raises(StatusNotStated) as refused:
        registry.import_tenants([(config("acme"), secrets())], unstated_status=["acme"])
    assert refused.value.tenant_ids == ["acme"]
    assert not key_store.key_file.exists()
    assert registry.list_all() == []


def test_what_show_prints_states_the_status_when_imported_back(cli: Run, tmp_path: Path) -> None:
    assert cli("tenants", "add", "acme", "--status-if-new", "pending", *NO_STATUS_FLAGS).code == 0
    path = tmp_path / "acme.json"
    path.write_text(cli("tenants", "show", "acme", "--json").out, encoding="utf-8")
    (entry,) = load_import_file(path, {})
    assert entry.states_status and entry.config.policy.status_if_new is StatusIfNew.PENDING


@pytest.mark.parametrize(
    ("stored", "status"),
    [
        ({"policy": {"status_if_new": "pending"}}, StatusIfNew.PENDING),
        ({"policy": {}}, StatusIfNew.TRANSACTIONAL),
        ({"policy": {"status_if_new": "cleaned"}}, StatusIfNew.TRANSACTIONAL),
        ({}, StatusIfNew.TRANSACTIONAL),
    ],
)
def test_a_stored_status_is_read_from_the_stored_config(stored: dict[str, Any], status: StatusIfNew) -> None:
    assert stored_status(stored) is status
