"""The registry: tenants and encrypted secrets in one database, decrypted one at a time on request."""

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from oracle_mailchimp_dagster.secrets import SecretDecryptionError
from oracle_mailchimp_dagster.store import SecretName, TenantExistsError, TenantNotFoundError
from oracle_mailchimp_dagster.store.schema import tenant_secrets
from oracle_mailchimp_dagster.tenants import MissingSecretError, TenantRegistry
from tests.fixtures.store import dump_database
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET, PLAINTEXTS, config, secrets


def test_add_get_list_round_trip(registry: TenantRegistry) -> None:
    registry.add(config("acme"), secrets())
    registry.add(config("globex", enabled=False), secrets())
    assert registry.get("acme") == config("acme")
    assert [t.id for t in registry.list_all()] == ["acme", "globex"]
    assert [t.id for t in registry.list_all(enabled_only=True)] == ["acme"]
    assert [info.name for info in registry.secret_info("acme")] == [
        SecretName.MAILCHIMP_API_KEY,
        SecretName.ORACLE_CLIENT_SECRET,
    ]


def test_secrets_are_returned_as_secret_values_on_request(registry: TenantRegistry) -> None:
    tenant = config()
    registry.add(tenant, secrets())
    oracle = registry.oracle_secret(tenant)
    assert isinstance(oracle, SecretStr)
    assert oracle.get_secret_value() == ORACLE_SECRET
    assert ORACLE_SECRET not in repr(oracle)
    assert registry.mailchimp_secret(tenant).get_secret_value() == MAILCHIMP_KEY


def test_the_database_holds_no_plaintext_secret(registry: TenantRegistry) -> None:
    registry.add(config(), secrets())
    registry.update(config(), {SecretName.ORACLE_CLIENT_SECRET: SecretStr(ORACLE_SECRET + "-2")})
    dump = dump_database(registry.db)
    assert "tenant_secrets" in dump
    for plaintext in (*PLAINTEXTS, ORACLE_SECRET + "-2"):
        assert plaintext not in dump


def test_a_duplicate_id_is_refused(registry: TenantRegistry) -> None:
    registry.add(config(), secrets())
    with pytest.raises(TenantExistsError, match="tenant 'acme' already exists"):
        registry.add(config(), secrets())


def test_an_unknown_tenant_is_named(registry: TenantRegistry) -> None:
    with pytest.raises(TenantNotFoundError, match="no tenant 'nobody'"):
        registry.get("nobody")
    with pytest.raises(TenantNotFoundError):
        registry.secret("nobody", SecretName.MAILCHIMP_API_KEY)
    with pytest.raises(TenantNotFoundError):
        registry.remove("nobody")


def test_a_tenant_needs_every_secret_its_auth_modes_use(registry: TenantRegistry) -> None:
    with pytest.raises(MissingSecretError, match="tenant 'acme' needs mailchimp_api_key"):
        registry.add(config(), {SecretName.ORACLE_CLIENT_SECRET: SecretStr(ORACLE_SECRET)})
    with pytest.raises(MissingSecretError, match="does not use oracle_password"):
        registry.add(config(), {**secrets(), SecretName.ORACLE_PASSWORD: SecretStr("pw")})
    assert registry.list_all() == []
    assert not registry.keys.key_file.exists(), "a refused add creates no key file either"


def test_switching_auth_mode_needs_the_new_secret_and_drops_the_old(registry: TenantRegistry) -> None:
    registry.add(config(), secrets())
    basic = config(oracle={"auth": "basic"})
    with pytest.raises(MissingSecretError, match="needs oracle_password"):
        registry.update(basic)
    registry.update(basic, {SecretName.ORACLE_PASSWORD: SecretStr("integration-pw")})
    assert {info.name for info in registry.secret_info("acme")} == {
        SecretName.ORACLE_PASSWORD,
        SecretName.MAILCHIMP_API_KEY,
    }
    assert registry.oracle_secret(basic).get_secret_value() == "integration-pw"


def test_update_keeps_secrets_not_given(registry: TenantRegistry) -> None:
    registry.add(config(), secrets())
    registry.update(config(schedule={"cron": "0 * * * *"}))
    assert registry.get("acme").schedule.cron == "0 * * * *"
    assert registry.mailchimp_secret(config()).get_secret_value() == MAILCHIMP_KEY


def test_remove_deletes_the_tenant_and_its_secrets(registry: TenantRegistry) -> None:
    registry.add(config(), secrets())
    registry.remove("acme")
    assert registry.list_all() == []
    with registry.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tenant_secrets)).scalar_one() == 0


def test_import_is_all_or_nothing(registry: TenantRegistry) -> None:
    registry.add(config("acme"), secrets())
    result = registry.import_tenants(
        [(config("acme", display_name="Acme 2"), {}), (config("globex"), secrets())]
    )
    assert (result.created, result.updated) == (["globex"], ["acme"])
    assert registry.get("acme").display_name == "Acme 2"
    with pytest.raises(MissingSecretError):
        registry.import_tenants([(config("initech"), secrets()), (config("hooli"), {})])
    assert [t.id for t in registry.list_all()] == ["acme", "globex"]


def _tamper(registry: TenantRegistry, name: SecretName) -> None:
    with registry.db.write() as conn:
        ciphertext = conn.execute(
            sa.select(tenant_secrets.c.ciphertext).where(tenant_secrets.c.name == name.value)
        ).scalar_one()
        altered = ciphertext[:-6] + ("AAAAAA" if not ciphertext.endswith("AAAAAA") else "BBBBBB")
        conn.execute(
            sa.update(tenant_secrets).where(tenant_secrets.c.name == name.value).values(ciphertext=altered)
        )


def assert_one_clear_line(error: SecretDecryptionError, registry: TenantRegistry, name: SecretName) -> str:
    message = str(error)
    assert message.startswith(f"cannot decrypt {name.value} of tenant 'acme': ")
    assert "\n" not in message
    with registry.db.read() as conn:
        for (ciphertext,) in conn.execute(sa.select(tenant_secrets.c.ciphertext)):
            assert ciphertext not in message and ciphertext[:20] not in message
    for plaintext in PLAINTEXTS:
        assert plaintext not in message
    return message


def test_tampered_ciphertext_names_the_tenant_and_secret(registry: TenantRegistry) -> None:
    registry.add(config(), secrets())
    _tamper(registry, SecretName.MAILCHIMP_API_KEY)
    with pytest.raises(SecretDecryptionError) as caught:
        registry.mailchimp_secret(config())
    message = assert_one_clear_line(caught.value, registry, SecretName.MAILCHIMP_API_KEY)
    assert "does not verify" in message
    assert registry.oracle_secret(config()).get_secret_value() == ORACLE_SECRET


def test_a_wrong_key_names_the_tenant_and_secret(registry: TenantRegistry) -> None:
    registry.add(config(), secrets())
    registry.keys.key_file.unlink()
    registry.keys.load(create=True)  # a different key now sits in the key file
    with pytest.raises(SecretDecryptionError) as caught:
        registry.oracle_secret(config())
    message = assert_one_clear_line(caught.value, registry, SecretName.ORACLE_CLIENT_SECRET)
    assert "is not in the key file" in message


def test_a_missing_key_names_the_tenant_and_secret(registry: TenantRegistry) -> None:
    registry.add(config(), secrets())
    registry.keys.key_file.unlink()
    with pytest.raises(SecretDecryptionError) as caught:
        registry.oracle_secret(config())
    message = assert_one_clear_line(caught.value, registry, SecretName.ORACLE_CLIENT_SECRET)
    assert "no master key" in message and str(registry.keys.key_file) in message


def test_rotation_reencrypts_every_secret_and_frees_the_old_key(registry: TenantRegistry) -> None:
    registry.add(config("acme"), secrets())
    registry.add(config("globex"), secrets(oracle="globex-secret"))
    old = registry.keys.load().primary.key_id
    new = registry.keys.add_primary().key_id
    assert (
        registry.oracle_secret(config("acme")).get_secret_value() == ORACLE_SECRET
    )  # old key still decrypts
    assert registry.key_usage() == {old: 4}
    assert registry.reencrypt_all() == 4
    assert registry.key_usage() == {new: 4}
    registry.keys.remove(old)
    assert registry.oracle_secret(config("globex")).get_secret_value() == "globex-secret"
    assert registry.mailchimp_secret(config("acme")).get_secret_value() == MAILCHIMP_KEY
