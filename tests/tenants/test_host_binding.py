"""A credential is bound to the hosts it was entered for: `tenants update` and `tenants import` refuse,
in one line and writing nothing, a change that would send a stored secret to a new host unless that
secret is given again in the same command; the rule itself is a pure function of the registry."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from oracle_mailchimp_dagster.secrets import KeyStore
from oracle_mailchimp_dagster.store import Database, SecretName
from oracle_mailchimp_dagster.tenants import TenantRegistry
from oracle_mailchimp_dagster.tenants.credential_hosts import (
    HostChangeRefused,
    changes_needing_secret,
    credential_hosts,
)
from tests.fixtures.store import CliResult
from tests.support.cli_tenants import MAILCHIMP_KEY_ENV, ORACLE_SECRET_ENV, refusal_line
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET, config, secrets, settings
from tests.support.tenant_writes import written

Run = Callable[..., CliResult]
NEW_SECRET = "new-Or4cle-secret"
EVIL = "https://evil.example.com"
POD = "acme.fa.us2.oraclecloud.com"
IDCS = "idcs-0123.identity.oraclecloud.com"
GIVE_ORACLE = "give the secret again with --oracle-client-secret-env or --oracle-client-secret-stdin"
GIVE_KEY = "give the key again with --mailchimp-api-key-env or --mailchimp-api-key-stdin"


@pytest.fixture
def cli(cli_env: Database, registry: TenantRegistry, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Tenant acme registered; the variables hold a new Oracle secret and the sample key."""
    registry.add(config(), secrets())
    monkeypatch.setenv(ORACLE_SECRET_ENV, NEW_SECRET)
    monkeypatch.setenv(MAILCHIMP_KEY_ENV, MAILCHIMP_KEY)
    return run_cli


REFUSED_UPDATES: list[tuple[list[str], str]] = [
    (
        ["--oracle-token-url", f"{EVIL}/oauth2/v1/token"],
        "changing --oracle-token-url sends the Oracle client secret to a new host "
        f"({IDCS} -> evil.example.com): " + GIVE_ORACLE,
    ),
    (
        ["--oracle-base-url", EVIL],
        "changing --oracle-base-url sends the Oracle client secret to a new host "
        f"({POD} -> evil.example.com): " + GIVE_ORACLE,
    ),
    (
        ["--oracle-base-url", EVIL, "--oracle-token-url", f"{EVIL}/t"],
        "changing --oracle-base-url and --oracle-token-url sends the Oracle client secret to new hosts "
        f"({POD} -> evil.example.com, {IDCS} -> evil.example.com): " + GIVE_ORACLE,
    ),
    (
        ["--oracle-token-url", f"https://{IDCS}:8443/oauth2/v1/token"],
        f"({IDCS} -> {IDCS}:8443)",
    ),
    (["--oracle-base-url", "http://127.0.0.1:18001"], f"({POD} -> 127.0.0.1:18001)"),
    (
        ["--mailchimp-api-base", "https://proxy.example.com/3.0"],
        "changing --mailchimp-api-base sends the Mailchimp API key to a new host "
        "(us6.api.mailchimp.com -> proxy.example.com): " + GIVE_KEY,
    ),
    (["--mailchimp-api-base", "http://127.0.0.1:9/3.0"], "(us6.api.mailchimp.com -> 127.0.0.1:9)"),
    (["--mailchimp-api-base", "https://us21.api.mailchimp.com/3.0"], "(us6.api.mailchimp.com -> us21."),
    # Giving the other credential does not help: each goes with its own hosts.
    (
        [
            "--mailchimp-api-base",
            "https://proxy.example.com/3.0",
            "--oracle-client-secret-env",
            ORACLE_SECRET_ENV,
        ],
        GIVE_KEY,
    ),
    (["--oracle-token-url", f"{EVIL}/t", "--mailchimp-api-key-env", MAILCHIMP_KEY_ENV], GIVE_ORACLE),
]


@pytest.mark.parametrize(("flags", "expected"), REFUSED_UPDATES)
def test_update_refuses_a_new_host_without_its_secret(
    cli: Run, cli_env: Database, key_store: KeyStore, flags: list[str], expected: str
) -> None:
    before = written(cli_env, key_store.key_file)
    line = refusal_line(cli("tenants", "update", "acme", *flags, "--schedule", "0 6 * * *"), NEW_SECRET)
    assert line.startswith("oracle-mailchimp: tenants update acme: changing --"), line
    assert expected in line, line
    assert written(cli_env, key_store.key_file) == before


def test_a_basic_auth_tenant_is_asked_for_its_password(
    cli: Run, cli_env: Database, key_store: KeyStore, registry: TenantRegistry
) -> None:
    basic = config(oracle={"auth": "basic", "token_url": None, "scope": None})
    registry.update(basic, {SecretName.ORACLE_PASSWORD: SecretStr("integration-pw")})
    before = written(cli_env, key_store.key_file)
    line = refusal_line(cli("tenants", "update", "acme", "--oracle-base-url", EVIL), "integration-pw")
    assert line.endswith(
        f"changing --oracle-base-url sends the Oracle password to a new host ({POD} -> evil.example.com): "
        "give the password again with --oracle-password-env or --oracle-password-stdin"
    )
    assert written(cli_env, key_store.key_file) == before


@pytest.mark.parametrize(
    "flags",
    [
        ["--oracle-token-url", f"{EVIL}/oauth2/v1/token", "--oracle-client-secret-env", ORACLE_SECRET_ENV],
        ["--oracle-client-secret-stdin", "--oracle-base-url", EVIL],
        [
            "--mailchimp-api-base",
            "https://proxy.example.com/3.0",
            "--mailchimp-api-key-env",
            MAILCHIMP_KEY_ENV,
        ],
    ],
)
def test_the_same_change_with_its_secret_lands_and_binds_the_secret_to_the_new_host(
    cli: Run, registry: TenantRegistry, flags: list[str]
) -> None:
    result = cli("tenants", "update", "acme", *flags, stdin=NEW_SECRET + "\n")
    assert result.code == 0, result
    tenant = registry.get("acme")
    for name in tenant.required_secrets():
        assert registry.bound_secret("acme", name).hosts == credential_hosts(tenant, name)


@pytest.mark.parametrize(
    "flags",
    [
        ["--oracle-token-url", f"https://{IDCS}/oauth2/v2/token"],  # another path on the same host
        ["--oracle-base-url", "https://ACME.fa.us2.oraclecloud.com/"],  # case and a trailing slash
        ["--oracle-base-url", f"https://{POD}:443"],  # the default port spelled out
        ["--mailchimp-api-base", "https://us6.api.mailchimp.com/3.0"],  # the key's own data center
        ["--mailchimp-api-base", ""],  # no override: the key's own data center
        ["--schedule", "0 6 * * *", "--oracle-client-id", "other-client"],
    ],
)
def test_changes_that_keep_every_host_need_no_secret(
    cli: Run, registry: TenantRegistry, flags: list[str]
) -> None:
    result = cli("tenants", "update", "acme", *flags)
    assert result.code == 0, result
    assert registry.oracle_secret(config()).get_secret_value() == ORACLE_SECRET


def _yaml(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump({"tenants": list(entries)}), encoding="utf-8")
    return path


def test_import_refuses_new_hosts_naming_every_tenant_and_the_yaml_keys(
    cli: Run, cli_env: Database, key_store: KeyStore, registry: TenantRegistry, tmp_path: Path
) -> None:
    registry.add(config("globex"), secrets())
    file = _yaml(
        tmp_path,
        settings(oracle={"token_url": f"{EVIL}/oauth2/v1/token"}),
        settings("globex", mailchimp={"api_base": "https://proxy.example.com/3.0"}),
        settings(
            "initech",
            oracle={"client_secret_env": ORACLE_SECRET_ENV},
            mailchimp={"api_key_env": MAILCHIMP_KEY_ENV},
        ),
    )
    before = written(cli_env, key_store.key_file)
    line = refusal_line(cli("tenants", "import", str(file)), NEW_SECRET)
    assert line == (
        f"oracle-mailchimp: tenants import {file}: tenant 'acme': changing oracle.token_url sends the Oracle "
        f"client secret to a new host ({IDCS} -> evil.example.com): give the secret again with "
        "oracle.client_secret_env; tenant 'globex': changing mailchimp.api_base sends the Mailchimp API key "
        "to a new host (us6.api.mailchimp.com -> proxy.example.com): give the key again with "
        "mailchimp.api_key_env"
    )
    assert written(cli_env, key_store.key_file) == before  # initech was not created either


def test_import_with_the_secret_moves_the_host(cli: Run, registry: TenantRegistry, tmp_path: Path) -> None:
    moved = settings(oracle={"token_url": f"{EVIL}/oauth2/v1/token", "client_secret_env": ORACLE_SECRET_ENV})
    result = cli("tenants", "import", str(_yaml(tmp_path, moved)))
    assert result.code == 0, result
    assert registry.oracle_secret(config()).get_secret_value() == NEW_SECRET
    assert registry.bound_secret("acme", SecretName.ORACLE_CLIENT_SECRET).hosts == {
        "oracle.base_url": f"https://{POD}:443",
        "oracle.token_url": "https://evil.example.com:443",
    }


def test_the_registry_refuses_other_callers_too(registry: TenantRegistry) -> None:
    registry.add(config(), secrets())
    with pytest.raises(HostChangeRefused, match=r"tenant 'acme': changing oracle.base_url sends"):
        registry.update(config(oracle={"base_url": EVIL}))
    with pytest.raises(HostChangeRefused, match=r"changing mailchimp.api_base sends the Mailchimp API key"):
        registry.import_tenants([(config(mailchimp={"api_base": "https://proxy.example.com/3.0"}), {})])
    assert registry.get("acme") == config()
    registry.reset_state("acme")  # another caller of the registry, untouched by the rule


def test_the_rule_is_pure() -> None:
    old, moved = config(), config(oracle={"token_url": f"{EVIL}/t"})
    [change] = changes_needing_secret(old, moved, given=())
    assert (change.setting, change.secret, change.old, change.new) == (
        "oracle.token_url",
        SecretName.ORACLE_CLIENT_SECRET,
        IDCS,
        "evil.example.com",
    )
    assert changes_needing_secret(old, moved, given=(SecretName.ORACLE_CLIENT_SECRET,)) == []
    spelled = config(mailchimp={"api_base": "https://us6.api.mailchimp.com/3.0"})
    assert changes_needing_secret(old, spelled, given=(), key_data_center="us6") == []
    assert [c.new for c in changes_needing_secret(old, spelled, given=(), key_data_center="us1")] == [
        "us6.api.mailchimp.com"
    ]
    # Unreadable stored settings: every host counts as new.
    assert {c.setting for c in changes_needing_secret(None, old, given=())} == {
        "oracle.base_url",
        "oracle.token_url",
    }
