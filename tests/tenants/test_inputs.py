"""Declarative tenants (YAML) and the sandbox env file: parsed and validated before anything is written."""

from pathlib import Path

import pytest

from oracle_mailchimp_dagster.store import SecretName
from oracle_mailchimp_dagster.tenants import TenantConfigError
from oracle_mailchimp_dagster.tenants.env_file import parse_env_text, read_env_file, settings_from_env
from oracle_mailchimp_dagster.tenants.yaml_import import load_tenant_file, parse_tenants
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET

GOOD = """
tenants:
  - id: acme
    display_name: Acme Corp
    oracle:
      base_url: https://acme.fa.us2.oraclecloud.com
      token_url: https://idcs-0123.identity.oraclecloud.com/oauth2/v1/token
      scope: urn:opc:resource:fa:instanceid=1urn:opc:resource:consumer::all
      client_id: acme-client
      client_secret_env: ACME_ORACLE
    mailchimp:
      list_id: a1b2c3d4e5
      api_key_env: ACME_MAILCHIMP
    schedule: {cron: "0 * * * *", timezone: Europe/Paris}
    policy: {inactive_action: archive, status_if_new: pending}
    mapping:
      merge_fields: {COMPANY: OrganizationName, PHONE: FormattedPhoneNumber}
  - id: globex
    oracle:
      base_url: https://globex.fa.em2.oraclecloud.com
      auth: basic
      client_id: INTEGRATION.USER
      password_env: GLOBEX_ORACLE
    mailchimp:
      list_id: f0e9d8c7b6
      auth: oauth
      oauth_token_env: GLOBEX_MAILCHIMP
"""
ENV = {
    "ACME_ORACLE": ORACLE_SECRET,
    "ACME_MAILCHIMP": MAILCHIMP_KEY,
    "GLOBEX_ORACLE": "pw",
    "GLOBEX_MAILCHIMP": "tok",
}


def test_a_declarative_file_yields_configs_and_secrets(tmp_path: Path) -> None:
    path = tmp_path / "tenants.yaml"
    path.write_text(GOOD, encoding="utf-8")
    (acme, acme_secrets), (globex, globex_secrets) = load_tenant_file(path, ENV)
    assert (acme.schedule.timezone, acme.policy.inactive_action.value, acme.policy.status_if_new.value) == (
        "Europe/Paris",
        "archive",
        "pending",
    )
    assert acme.mapping.merge_fields == {"COMPANY": "OrganizationName", "PHONE": "FormattedPhoneNumber"}
    assert {k: v.get_secret_value() for k, v in acme_secrets.items()} == {
        SecretName.ORACLE_CLIENT_SECRET: ORACLE_SECRET,
        SecretName.MAILCHIMP_API_KEY: MAILCHIMP_KEY,
    }
    assert globex.display_name == "globex"
    assert set(globex_secrets) == {SecretName.ORACLE_PASSWORD, SecretName.MAILCHIMP_OAUTH_TOKEN}


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("tenants:\n  - id: x\n    bad: a: b\n", {}, "t.yaml line 3: mapping values are not allowed here"),
        ("just: text", {}, "t.yaml: expected a list of tenants under 'tenants:'"),
        ("tenants: [7]", {}, "t.yaml: tenant #1 is not a mapping of settings"),
        (
            GOOD,
            {**ENV, "ACME_ORACLE": ""},
            "t.yaml: tenant 'acme': oracle.client_secret_env names ACME_ORACLE, which is not set",
        ),
        (
            GOOD.replace("Europe/Paris", "Europe/Pariss"),
            ENV,
            "t.yaml: invalid tenant 'acme': schedule.timezone: 'Europe/Pariss'",
        ),
        (GOOD.replace("id: globex", "id: acme"), ENV, "t.yaml: tenant 'acme' appears twice"),
        (
            GOOD.replace("inactive_action: archive", "inactive_action: shred"),
            ENV,
            "policy.inactive_action: 'shred' is not one of",
        ),
        (
            GOOD.replace("client_secret_env: ACME_ORACLE", "client_secret: plain"),
            ENV,
            "oracle.client_secret: unknown setting",
        ),
    ],
)
def test_bad_files_get_one_clear_line(text: str, env: dict[str, str], expected: str) -> None:
    with pytest.raises(TenantConfigError) as caught:
        parse_tenants(text, "t.yaml", env)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    assert ORACLE_SECRET not in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TenantConfigError, match=r"cannot read .*nope\.yaml: No such file"):
        load_tenant_file(tmp_path / "nope.yaml", {})


def test_env_file_lines_are_parsed_like_a_shell_would() -> None:
    text = (
        "# sandbox\n\nORACLE_BASE_URL=http://127.0.0.1:8001\n"
        "export ORACLE_SCOPE='urn:x y'\nMAILCHIMP_LIST_ID=\"abc\"\nEXTRA=ignored\n"
    )
    values = parse_env_text(text, "env")
    assert values == {
        "ORACLE_BASE_URL": "http://127.0.0.1:8001",
        "ORACLE_SCOPE": "urn:x y",
        "MAILCHIMP_LIST_ID": "abc",
        "EXTRA": "ignored",
    }
    assert settings_from_env(values) == {
        "oracle": {"base_url": "http://127.0.0.1:8001", "scope": "urn:x y"},
        "mailchimp": {"list_id": "abc"},
    }


def test_a_malformed_env_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / ".sandbox.env"
    path.write_text("ORACLE_BASE_URL=x\nthis is not an assignment\n", encoding="utf-8")
    with pytest.raises(TenantConfigError, match=r"env file .*\.sandbox\.env line 2 is not KEY=VALUE"):
        read_env_file(path)
