"""Write access to the database is not enough to send a stored credential elsewhere: each secret is
sealed with its tenant and the hosts it was entered for, and a setting changed behind the registry's
back (straight in the database) makes `tenants test` and a run's connections refuse before any request.
"""

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from oracle_mailchimp_dagster.secrets import SecretDecryptionError
from oracle_mailchimp_dagster.store import Database, SecretName
from oracle_mailchimp_dagster.store.schema import tenant_secrets
from oracle_mailchimp_dagster.tenants import TenantRegistry
from oracle_mailchimp_dagster.tenants.connections import fusion_connection, mailchimp_connection
from oracle_mailchimp_dagster.tenants.credential_hosts import CredentialHostMismatch
from tests.fixtures.store import CliResult
from tests.support.cli_tenants import refusal_line
from tests.support.request_recorder import Recorder, request_recorder
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET, config, secrets
from tests.support.tenant_writes import tamper_setting

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with request_recorder() as running:
        yield running


@pytest.fixture
def acme(registry: TenantRegistry) -> TenantRegistry:
    registry.add(config(), secrets())
    return registry


@pytest.mark.parametrize(
    ("section", "field", "path", "expected"),
    [
        (
            "oracle",
            "token_url",
            "/oauth2/v1/token",
            "the Oracle client secret was entered for idcs-0123.identity.oraclecloud.com, "
            "but oracle.token_url now sends it to 127.0.0.1:",
        ),
        (
            "oracle",
            "base_url",
            "",
            "the Oracle client secret was entered for acme.fa.us2.oraclecloud.com, but oracle.base_url",
        ),
        (
            "mailchimp",
            "api_base",
            "/3.0",
            "the Mailchimp API key was entered for its own data center, "
            "but mailchimp.api_base now sends it to",
        ),
    ],
)
def test_a_host_changed_in_the_database_gets_nothing(
    acme: TenantRegistry,
    cli_env: Database,
    run_cli: Callable[..., CliResult],
    recorder: Recorder,
    section: str,
    field: str,
    path: str,
    expected: str,
) -> None:
    tamper_setting(cli_env, "acme", section, field, recorder.url + path)
    line = refusal_line(run_cli("tenants", "test", "acme"))
    assert line.startswith("oracle-mailchimp: tenant 'acme': ") and expected in line, line
    assert "nothing was sent" in line and "oracle-mailchimp tenants update acme --" in line
    assert recorder.requests == []
    with pytest.raises(CredentialHostMismatch):
        (mailchimp_connection if section == "mailchimp" else fusion_connection)(acme.get("acme"), acme)


def test_the_mailchimp_key_may_go_to_its_own_data_center(acme: TenantRegistry, cli_env: Database) -> None:
    tamper_setting(cli_env, "acme", "mailchimp", "api_base", "https://us6.api.mailchimp.com/3.0")
    connection = mailchimp_connection(acme.get("acme"), acme)
    assert connection.api_base == "https://us6.api.mailchimp.com/3.0"
    tamper_setting(cli_env, "acme", "mailchimp", "api_base", "https://us21.api.mailchimp.com/3.0")
    with pytest.raises(CredentialHostMismatch, match=r"now sends it to us21\.api\.mailchimp\.com"):
        mailchimp_connection(acme.get("acme"), acme)


def test_a_secret_copied_to_another_tenant_is_refused(acme: TenantRegistry, cli_env: Database) -> None:
    acme.add(config("globex"), secrets(oracle="globex-secret"))
    with cli_env.write() as conn:
        [ciphertext] = conn.execute(
            sa.select(tenant_secrets.c.ciphertext).where(
                tenant_secrets.c.tenant_id == "acme", tenant_secrets.c.name == "oracle_client_secret"
            )
        ).scalars()
        conn.execute(
            sa.update(tenant_secrets)
            .where(tenant_secrets.c.tenant_id == "globex", tenant_secrets.c.name == "oracle_client_secret")
            .values(ciphertext=ciphertext)
        )
    with pytest.raises(SecretDecryptionError, match="sealed for another tenant or secret") as refused:
        acme.secret("globex", SecretName.ORACLE_CLIENT_SECRET)
    assert ORACLE_SECRET not in str(refused.value)


def test_a_secret_stored_before_binding_still_works_and_rotation_binds_it(
    acme: TenantRegistry, cli_env: Database
) -> None:
    """A plain (unbound) value goes where the settings say, as before, until it is entered again or
    re-encrypted."""
    sealed = acme.keys.load().encrypt(SecretStr(MAILCHIMP_KEY))
    with cli_env.write() as conn:
        conn.execute(
            sa.update(tenant_secrets)
            .where(tenant_secrets.c.name == "mailchimp_api_key")
            .values(ciphertext=sealed.ciphertext, key_id=sealed.key_id)
        )
    assert acme.bound_secret("acme", SecretName.MAILCHIMP_API_KEY).hosts is None
    assert mailchimp_connection(acme.get("acme"), acme).secret.get_secret_value() == MAILCHIMP_KEY
    # Re-encryption (`keys rotate`) binds it to the hosts the tenant names now.
    assert acme.reencrypt_all() == 2
    bound = acme.bound_secret("acme", SecretName.MAILCHIMP_API_KEY)
    assert (bound.value.get_secret_value(), bound.hosts) == (MAILCHIMP_KEY, {"mailchimp.api_base": None})
    assert acme.bound_secret("acme", SecretName.ORACLE_CLIENT_SECRET).hosts == {
        "oracle.base_url": "https://acme.fa.us2.oraclecloud.com:443",
        "oracle.token_url": "https://idcs-0123.identity.oraclecloud.com:443",
    }
