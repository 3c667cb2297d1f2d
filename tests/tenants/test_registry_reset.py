"""The registry refuses a setting change that would leave stored sync state meaningless, or resets that
state in the same transaction when asked (SQLite and PostgreSQL)."""

from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import SecretStr

from oracle_mailchimp_dagster.store import SecretName, SyncStore, TenantNotFoundError
from oracle_mailchimp_dagster.tenants import TenantConfig, TenantRegistry
from oracle_mailchimp_dagster.tenants.state_changes import StateChangeRefused
from tests.support.sync_state import SEEDED_MARK, is_empty, seed_state, snapshot
from tests.support.tenant_samples import MAILCHIMP_KEY, config, secrets

OTHER_LIST: dict[str, Any] = {"mailchimp": {"list_id": "z9y8x7w6v5"}}
KEY_IN_US21 = "fedcba9876543210fedcba9876543210-us21"
KEY_IN_US6 = "fedcba9876543210fedcba9876543210-us6"


@pytest.fixture
def synced(registry: TenantRegistry) -> TenantRegistry:
    """Tenant acme registered, with a committed run's member state, a queued retry and a mark."""
    registry.add(config(), secrets())
    seed_state(registry.db, "acme")
    return registry


def test_a_list_change_with_stored_state_is_refused_and_writes_nothing(synced: TenantRegistry) -> None:
    before = snapshot(synced.db, "acme")
    new_key = {SecretName.MAILCHIMP_API_KEY: SecretStr(KEY_IN_US6)}
    with pytest.raises(
        StateChangeRefused, match=r"changing the Mailchimp list id \(a1b2c3d4e5 -> z9y8x7w6v5\)"
    ):
        synced.update(config(**OTHER_LIST, display_name="Renamed"), new_key)
    assert synced.get("acme") == config()
    assert synced.mailchimp_secret(config()).get_secret_value() == MAILCHIMP_KEY
    assert snapshot(synced.db, "acme") == before and before.mark == SEEDED_MARK


def test_with_reset_state_the_change_and_the_reset_land_together(synced: TenantRegistry) -> None:
    result = synced.update(config(**OTHER_LIST), reset_state=True)
    assert synced.get("acme").mailchimp.list_id == "z9y8x7w6v5"
    assert [change.setting for change in result.changes] == ["the Mailchimp list id"]
    assert result.reset is not None
    assert (result.reset.members_deleted, result.reset.retries_deleted, result.reset.mark_cleared) == (
        3,
        1,
        True,
    )
    assert is_empty(snapshot(synced.db, "acme"))
    [row] = SyncStore(synced.db).ledger.for_run("acme", result.reset.run_id)
    assert row.detail is not None
    assert row.detail.startswith(
        "settings changed: the Mailchimp list id (a1b2c3d4e5 -> z9y8x7w6v5); deleted 3"
    )


def test_other_changes_keep_the_state_even_with_reset_state(synced: TenantRegistry) -> None:
    before = snapshot(synced.db, "acme")
    result = synced.update(
        config(schedule={"cron": "0 6 * * *"}, oracle={"client_id": "new-client"}),
        {SecretName.MAILCHIMP_API_KEY: SecretStr(KEY_IN_US6)},  # a rotated key, same data center
        reset_state=True,
    )
    assert (result.changes, result.reset) == ([], None)
    assert synced.get("acme").oracle.client_id == "new-client"
    assert snapshot(synced.db, "acme") == before


def test_a_key_of_another_data_center_is_another_account(synced: TenantRegistry) -> None:
    before = snapshot(synced.db, "acme")
    new_key = {SecretName.MAILCHIMP_API_KEY: SecretStr(KEY_IN_US21)}
    with pytest.raises(StateChangeRefused, match=r"the Mailchimp account \(API base\)") as refused:
        synced.update(config(), new_key)
    assert "us6.api.mailchimp.com" in str(refused.value) and "us21.api.mailchimp.com" in str(refused.value)
    assert KEY_IN_US21 not in str(refused.value)
    assert synced.mailchimp_secret(config()).get_secret_value() == MAILCHIMP_KEY
    assert snapshot(synced.db, "acme") == before


def test_a_tenant_without_stored_state_changes_freely(registry: TenantRegistry) -> None:
    registry.add(config(), secrets())
    result = registry.update(config(**OTHER_LIST))
    assert result.reset is None and [c.setting for c in result.changes] == ["the Mailchimp list id"]
    assert registry.get("acme").mailchimp.list_id == "z9y8x7w6v5"


def test_reset_on_request(synced: TenantRegistry) -> None:
    reset = synced.reset_state("acme")
    assert (reset.members_deleted, reset.mark_cleared) == (3, True)
    assert is_empty(snapshot(synced.db, "acme"))
    assert synced.get("acme") == config()
    [row] = SyncStore(synced.db).ledger.for_run("acme", reset.run_id)
    assert row.detail is not None and row.detail.startswith("reset on request; deleted 3 member state row(s)")
    with pytest.raises(TenantNotFoundError, match="no tenant 'nobody'"):
        synced.reset_state("nobody")


def test_an_import_is_refused_as_a_whole_naming_every_tenant(synced: TenantRegistry) -> None:
    synced.add(config("globex"), secrets())
    seed_state(synced.db, "globex")
    before = {tenant: snapshot(synced.db, tenant) for tenant in ("acme", "globex")}
    moved_pod = config("globex", oracle={"base_url": "https://globex.fa.em2.oraclecloud.com"})
    entries: list[tuple[TenantConfig, Mapping[SecretName, SecretStr]]] = [
        (config("initech"), secrets()),
        (config(**OTHER_LIST), {}),
        (moved_pod, secrets()),  # a new pod host needs the Oracle secret again
    ]
    with pytest.raises(StateChangeRefused) as refused:
        synced.import_tenants(entries)
    assert "tenant 'acme': changing the Mailchimp list id" in str(refused.value)
    assert "tenant 'globex': changing the Oracle pod URL" in str(refused.value)
    assert [t.id for t in synced.list_all()] == ["acme", "globex"]  # initech was not created either
    assert (synced.get("acme"), synced.get("globex")) == (config(), config("globex"))
    assert {tenant: snapshot(synced.db, tenant) for tenant in before} == before


def test_an_import_with_reset_state_resets_only_the_tenants_that_need_it(synced: TenantRegistry) -> None:
    synced.add(config("globex"), secrets())
    seed_state(synced.db, "globex")
    globex_before = snapshot(synced.db, "globex")
    entries: list[tuple[TenantConfig, Mapping[SecretName, SecretStr]]] = [
        (config(**OTHER_LIST), {}),
        (config("globex", schedule={"cron": "0 * * * *"}), {}),
    ]
    result = synced.import_tenants(entries, reset_state=True)
    assert (result.created, result.updated) == ([], ["acme", "globex"])
    assert [reset.tenant_id for reset in result.resets] == ["acme"]
    assert is_empty(snapshot(synced.db, "acme"))
    assert snapshot(synced.db, "globex") == globex_before
    assert synced.get("globex").schedule.cron == "0 * * * *"
