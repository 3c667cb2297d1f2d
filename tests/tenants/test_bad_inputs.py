"""Bad input to `tenants add`, `update` and `import`, through the real CLI: each is refused in one line
naming the setting (its flag, or its YAML key) and its first problem, and nothing is written: no
tenant, no secret, no key file, no changed row.

The table covers what issue 13 found handled poorly (a malformed Mailchimp key, REST framework version
12, a newline in the pod URL, a space in the host, port 99999, an IDN homograph, an API base without
/3.0, 2 MB scopes and client ids, control and RTL characters in the display name, a key with trailing
whitespace, a non-latin-1 secret, a mapping from an attribute that does not exist) and the host rules.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from oracle_mailchimp_dagster.secrets import KeyStore
from oracle_mailchimp_dagster.store import Database
from oracle_mailchimp_dagster.tenants import TenantRegistry
from tests.fixtures.store import CliResult
from tests.support.cli_tenants import ADD_FLAGS, MAILCHIMP_KEY_ENV, ORACLE_SECRET_ENV, refusal_line
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET, config, secrets, settings
from tests.support.tenant_writes import Written, written

Run = Callable[..., CliResult]
BAD = "BAD_SECRET"  # the variable a bad secret is given in
TWO_MB = 2_000_000
CYRILLIC_A = "\u0430"  # looks like a Latin a

# The command's checks do not depend on the database backend; SQLite keeps 130 commands quick.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# (flag, value, what the line says after "<flag>: ")
SETTING_CASES: list[tuple[str, str, str]] = [
    # The pod URL: scheme, characters, port, host.
    ("--oracle-base-url", "http://acme.example.com", "must use https (plain http is allowed only for"),
    ("--oracle-base-url", "not a url", "'not a url' is not an absolute http(s) URL"),
    ("--oracle-base-url", "ftp://acme.example.com", "is not an absolute http(s) URL"),
    ("--oracle-base-url", "https://", "is not an absolute http(s) URL"),
    ("--oracle-base-url", "https://[::1", "is not a valid URL"),
    (
        "--oracle-base-url",
        "https://acme.fa.us2.oraclecloud.com\nX-Injected: 1",
        "contains a control or invisible character (U+000A)",
    ),
    ("--oracle-base-url", "https://acme.fa.us2\t.oraclecloud.com", "control or invisible character (U+0009)"),
    ("--oracle-base-url", "https://acme .fa.us2.oraclecloud.com", "contains a space"),
    ("--oracle-base-url", "https://acme.example.com/pods/a b", "contains a space"),
    ("--oracle-base-url", "https://acme.example.com/\u202e", "a bidirectional formatting character (U+202E"),
    ("--oracle-base-url", "https://acme.example.com/caf\u00e9", "a non-ASCII character (U+00E9)"),
    ("--oracle-base-url", "https://acme.fa.us2.oraclecloud.com:99999", "port '99999' is not a number from 1"),
    (
        "--oracle-base-url",
        "https://acme.fa.us2.oraclecloud.com:0",
        "port '0' is not a number from 1 to 65535",
    ),
    ("--oracle-base-url", "https://acme.fa.us2.oraclecloud.com:https", "port 'https' is not a number"),
    ("--oracle-base-url", "https://acme.fa.us2.oraclecloud.com:80:80", "port '80:80' is not a number"),
    (
        "--oracle-base-url",
        f"https://{CYRILLIC_A}cme.fa.us2.oraclecloud.com",
        "is an internationalized (non-ASCII) name, mixing Cyrillic and Latin letters",
    ),
    ("--oracle-base-url", "https://xn--cme-8cd.fa.us2.oraclecloud.com", "has a punycode (xn--) label"),
    ("--oracle-base-url", "https://169.254.169.254", "host 169.254.169.254 is a cloud metadata address"),
    ("--oracle-base-url", "https://169.254.10.1", "host 169.254.10.1 is a link-local address"),
    ("--oracle-base-url", "https://metadata.google.internal", "is a cloud metadata host"),
    ("--oracle-base-url", "https://[fd00:ec2::254]", "host fd00:ec2::254 is a cloud metadata address"),
    ("--oracle-base-url", "https://[::ffff:169.254.169.254]", "is a cloud metadata address"),
    ("--oracle-base-url", "https://10.0.0.5", "host 10.0.0.5 is a private-range address"),
    ("--oracle-base-url", "https://172.16.3.4", "host 172.16.3.4 is a private-range address"),
    ("--oracle-base-url", "https://192.168.1.10", "host 192.168.1.10 is a private-range address"),
    ("--oracle-base-url", "https://[fc00::1]", "host fc00::1 is a private-range address"),
    ("--oracle-base-url", "https://[fe80::1]", "host fe80::1 is a link-local address"),
    ("--oracle-base-url", "https://0.0.0.0", "host 0.0.0.0 is an unspecified address"),
    ("--oracle-base-url", "https://[::]", "host :: is an unspecified address"),
    ("--oracle-base-url", "https://224.0.0.1", "host 224.0.0.1 is a multicast address"),
    ("--oracle-base-url", "https://[ff02::1]", "host ff02::1 is a multicast address"),
    ("--oracle-base-url", "https://100.64.0.1", "is not a public address"),
    ("--oracle-base-url", "https://2852039166", "is not a standard IP address"),
    ("--oracle-base-url", "https://0xa9.0xfe.0xa9.0xfe", "is not a standard IP address"),
    ("--oracle-base-url", "https://169.254.169.254.", "is not a standard IP address"),
    ("--oracle-base-url", "https://acme_pod.example.com", "is not a valid host name"),
    ("--oracle-base-url", "https://-acme.example.com", "is not a valid host name"),
    ("--oracle-base-url", "https://acme..example.com", "is not a valid host name"),
    ("--oracle-base-url", "https://user:pw@acme.example.com", "must not contain credentials"),
    ("--oracle-base-url", "https://acme.example.com/?a=1", "must not have a query string or fragment"),
    ("--oracle-base-url", "https://acme.example.com/#top", "must not have a query string or fragment"),
    ("--oracle-base-url", "https://acme.example.com/pods?", "must not have a query string or fragment"),
    ("--oracle-base-url", "https://example.com/" + "a" * 2100, "is longer than 2,048 characters"),
    # The token URL: the same rules.
    ("--oracle-token-url", "https://169.254.169.254/latest/meta-data", "is a cloud metadata address"),
    ("--oracle-token-url", "http://idcs-0123.identity.oraclecloud.com/oauth2/v1/token", "must use https"),
    ("--oracle-token-url", "https://idcs-0123.identity.oraclecloud.com/oauth2/v1/token?x=1", "query string"),
    ("--oracle-token-url", "https://idcs-0123.identity.oraclecloud.com:99999/t", "port '99999' is not"),
    ("--oracle-token-url", "https://metadata.google.internal/computeMetadata/v1/", "a cloud metadata host"),
    ("--oracle-token-url", "https://idcs-0123.identity.oraclecloud.com/oauth2\r\n/v1/token", "(U+000D)"),
    (
        "--oracle-token-url",
        "https://idcs-0123.identit\u0443.oraclecloud.com/oauth2/v1/token",
        "is an internationalized (non-ASCII) name, mixing Latin and Cyrillic letters",
    ),
    ("--oracle-token-url", "https://10.20.30.40/oauth2/v1/token", "is a private-range address"),
    # The Mailchimp API base: the same rules, and /3.0 at the end.
    ("--mailchimp-api-base", "https://us6.api.mailchimp.com", "must end with /3.0, the API version"),
    ("--mailchimp-api-base", "https://proxy.example.com/3.1", "must end with /3.0"),
    ("--mailchimp-api-base", "http://127.0.0.1:8002", "must end with /3.0"),
    ("--mailchimp-api-base", "http://proxy.example.com/3.0", "must use https"),
    ("--mailchimp-api-base", "ftp://127.0.0.1/3.0", "is not an absolute http(s) URL"),
    ("--mailchimp-api-base", "https://169.254.169.254/3.0", "is a cloud metadata address"),
    ("--mailchimp-api-base", "https://metadata.google.internal/3.0", "is a cloud metadata host"),
    ("--mailchimp-api-base", "https://[fd00:ec2::254]/3.0", "is a cloud metadata address"),
    ("--mailchimp-api-base", "https://[fe80::1%25eth0]/3.0", "is a link-local address"),
    ("--mailchimp-api-base", "https://10.1.2.3/3.0", "is a private-range address"),
    ("--mailchimp-api-base", "https://proxy.example.com/3.0?x=1", "must not have a query string"),
    ("--mailchimp-api-base", "https://u:p@proxy.example.com/3.0", "must not contain credentials"),
    ("--mailchimp-api-base", "https://proxy.example.com:0/3.0", "port '0' is not a number"),
    ("--mailchimp-api-base", "https://pr\u043exy.example.com/3.0", "is an internationalized (non-ASCII)"),
    # Free text: caps, control and bidirectional characters.
    ("--oracle-scope", "s" * 2001, "is 2,001 characters long; at most 2,000 are allowed"),
    ("--oracle-scope", "s" * TWO_MB, "is 2,000,000 characters long; at most 2,000 are allowed"),
    ("--oracle-scope", "urn:opc\nresource", "contains a control or invisible character (U+000A)"),
    ("--oracle-scope", 'urn:"quoted"', 'must not contain " or \\'),
    ("--oracle-scope", "urn:opc:r\u00e9source", "must be ASCII"),
    ("--oracle-client-id", "c" * 256, "is 256 characters long; at most 255 are allowed"),
    ("--oracle-client-id", "c" * TWO_MB, "is 2,000,000 characters long; at most 255 are allowed"),
    ("--oracle-client-id", "client\x07id", "contains a control or invisible character (U+0007)"),
    ("--oracle-client-id", "client\u202eid", "contains a bidirectional formatting character (U+202E"),
    ("--oracle-client-id", "client:id", "must not contain ':' (HTTP Basic auth separates"),
    ("--oracle-client-id", "cl\u00efent\u20ac", "must be latin-1 text"),
    ("--display-name", "Acme\u202eCorp", "contains a bidirectional formatting character (U+202E"),
    ("--display-name", "Acme\u2066Corp", "contains a bidirectional formatting character (U+2066"),
    ("--display-name", "Acme\u200fCorp", "contains a bidirectional formatting character (U+200F"),
    ("--display-name", "Acme\x1b[31mCorp", "contains a control or invisible character (U+001B)"),
    ("--display-name", "Acme\nCorp", "contains a control or invisible character (U+000A)"),
    ("--display-name", "Acme\u200bCorp", "contains a control or invisible character (U+200B)"),
    ("--display-name", "x" * 201, "is 201 characters long; at most 200 are allowed"),
    ("--inactive-tag", "gone\u202e", "contains a bidirectional formatting character (U+202E"),
    # REST-Framework-Version: the versions Oracle documents (1 to 9).
    ("--oracle-framework-version", "12", "'12' is not a REST framework version Oracle has (a whole number"),
    ("--oracle-framework-version", "10", "'10' is not a REST framework version Oracle has"),
    ("--oracle-framework-version", "0", "'0' is not a REST framework version Oracle has"),
    ("--oracle-framework-version", "-1", "'-1' is not a REST framework version"),
    ("--oracle-framework-version", "2.0", "'2.0' is not a REST framework version"),
    ("--oracle-framework-version", "v2", "'v2' is not a REST framework version"),
    ("--oracle-framework-version", "\u0663", "is not a REST framework version"),  # an Arabic-Indic 3
    # The resource path, the audience, the schedule.
    ("--oracle-resource-path", "crmRestApi/resources/latest/accounts", "is not a resource path"),
    ("--oracle-resource-path", "/crm\nx", "contains a control or invisible character (U+000A)"),
    ("--oracle-resource-path", "/crm x", "is not a resource path"),
    ("--oracle-resource-path", "/crm?x=1", "is not a resource path"),
    ("--oracle-resource-path", "/" + "a" * 600, "at most 500 are allowed"),
    ("--mailchimp-list-id", "a b", "'a b' is not a Mailchimp audience id"),
    ("--mailchimp-list-id", "a\u202eb", "'a\\u202eb' is not a Mailchimp audience id"),
    ("--schedule", "every 15 minutes", "is not a 5-field cron expression"),
    ("--timezone", "../../etc/passwd", "is not an IANA time zone"),
]

# (flag the secret is given with, value, what the line says after "<flag> BAD_SECRET: ")
SECRET_CASES: list[tuple[str, str, str]] = [
    ("--mailchimp-api-key-env", "not-a-key", "malformed Mailchimp API key: expected 32 lowercase hex"),
    ("--mailchimp-api-key-env", MAILCHIMP_KEY.upper(), "malformed Mailchimp API key"),
    (
        "--mailchimp-api-key-env",
        MAILCHIMP_KEY + " ",
        "the Mailchimp API key has leading or trailing whitespace",
    ),
    (
        "--mailchimp-api-key-env",
        " " + MAILCHIMP_KEY,
        "the Mailchimp API key has leading or trailing whitespace",
    ),
    ("--mailchimp-api-key-env", MAILCHIMP_KEY + "\n", "has leading or trailing whitespace"),
    ("--mailchimp-api-key-env", MAILCHIMP_KEY + "\u200b", "contains a control or invisible character"),
    ("--mailchimp-api-key-env", "k" * 5000, "is 5,000 characters long; at most 4,096 are allowed"),
    (
        "--oracle-client-secret-env",
        "s3cret\u2603",
        "the Oracle client secret contains a character that is not latin-1; it must be ASCII or latin-1",
    ),
    ("--oracle-client-secret-env", ORACLE_SECRET + " ", "has leading or trailing whitespace"),
    ("--oracle-client-secret-env", "\t" + ORACLE_SECRET, "has leading or trailing whitespace"),
    ("--oracle-client-secret-env", "two\nlines", "contains a control or invisible character"),
    ("--oracle-client-secret-env", "x" * 5000, "at most 4,096 are allowed"),
]


@pytest.fixture
def cli(cli_env: Database, key_store: KeyStore, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> Run:
    """`tenants` commands on an empty registry, the sample secrets in their variables."""
    monkeypatch.setenv(ORACLE_SECRET_ENV, ORACLE_SECRET)
    monkeypatch.setenv(MAILCHIMP_KEY_ENV, MAILCHIMP_KEY)
    return run_cli


def refused_writing_nothing(
    run: Run, db: Database, keys: KeyStore, args: list[str], *secret_values: str, stdin: str | None = None
) -> str:
    """Run; the command is refused in one line and the database and key file are as they were."""
    before: Written = written(db, keys.key_file)
    line = refusal_line(run(*args, stdin=stdin), *secret_values)
    assert written(db, keys.key_file) == before
    return line


@pytest.mark.parametrize(("flag", "value", "expected"), SETTING_CASES)
def test_add_refuses_a_bad_setting(
    cli: Run, cli_env: Database, key_store: KeyStore, flag: str, value: str, expected: str
) -> None:
    line = refused_writing_nothing(
        cli, cli_env, key_store, ["tenants", "add", "acme", *ADD_FLAGS, flag, value]
    )
    assert line.startswith("oracle-mailchimp: invalid tenant 'acme': ")
    assert f"{flag}: " in line and expected in line, line
    assert len(line) < 600, "a long value is cut, not repeated"
    assert key_store.key_file.exists() is False


@pytest.mark.parametrize(("flag", "value", "expected"), SECRET_CASES)
def test_add_refuses_a_bad_secret_without_showing_it(
    cli: Run,
    cli_env: Database,
    key_store: KeyStore,
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(BAD, value)
    args = ["tenants", "add", "acme", *ADD_FLAGS, flag, BAD]
    line = refused_writing_nothing(cli, cli_env, key_store, args, value.strip() or value)
    assert line.startswith(f"oracle-mailchimp: {flag} {BAD}: ") and expected in line, line


@pytest.mark.parametrize(
    ("extra", "flag", "value", "expected"),
    [
        (
            ["--mailchimp-auth", "oauth"],
            "--mailchimp-oauth-token-env",
            "tok\u00e9n",
            "must be ASCII without spaces",
        ),
        (
            ["--mailchimp-auth", "oauth"],
            "--mailchimp-oauth-token-env",
            "tok en",
            "must be ASCII without spaces",
        ),
        (["--oracle-auth", "basic"], "--oracle-password-env", "p\u00e4ssw\u00f6rd\u20ac", "is not latin-1"),
        (["--oracle-auth", "basic"], "--oracle-password-env", "pw ", "has leading or trailing whitespace"),
    ],
)
def test_add_refuses_a_bad_token_or_password(
    cli: Run,
    cli_env: Database,
    key_store: KeyStore,
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    flag: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(BAD, value)
    args = ["tenants", "add", "acme", *ADD_FLAGS, *extra, flag, BAD]
    line = refused_writing_nothing(cli, cli_env, key_store, args, value.strip())
    # The line names the flag as typed (an alias of the same option) and the secret the auth mode uses.
    assert f": {BAD}: " not in line and expected in line, line
    assert ("OAuth token" if "oauth" in flag else "password") in line


def test_a_secret_from_stdin_or_the_env_file_names_where_it_came_from(
    cli: Run, cli_env: Database, key_store: KeyStore, tmp_path: Path
) -> None:
    flags = [flag for flag in ADD_FLAGS if flag not in ("--oracle-client-secret-env", ORACLE_SECRET_ENV)]
    stdin = refused_writing_nothing(
        cli, cli_env, key_store, ["tenants", "add", "acme", *flags, "--oracle-client-secret-stdin"],
        stdin="trailing-space \n",
    )  # fmt: skip
    assert (
        "--oracle-client-secret-stdin: the Oracle client secret has leading or trailing whitespace" in stdin
    )
    env_file = tmp_path / ".sandbox.env"
    env_file.write_text(
        f"ORACLE_CLIENT_SECRET={ORACLE_SECRET}\nMAILCHIMP_API_KEY=not-a-key\n", encoding="utf-8"
    )
    no_key_flags = flags[: flags.index("--mailchimp-api-key-env")]
    from_file = refused_writing_nothing(
        cli, cli_env, key_store, ["tenants", "add", "acme", *no_key_flags, "--env-file", str(env_file)]
    )
    assert f"--env-file {env_file} (MAILCHIMP_API_KEY): malformed Mailchimp API key" in from_file


@pytest.fixture
def stored(cli: Run, registry: TenantRegistry) -> Run:
    """Tenant acme registered (the sample settings and secrets)."""
    registry.add(config(), secrets())
    return cli


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--oracle-base-url", "https://acme.fa.us2.oraclecloud.com:99999", "port '99999'"),
        ("--oracle-token-url", "https://169.254.169.254/t", "is a cloud metadata address"),
        ("--mailchimp-api-base", "https://us6.api.mailchimp.com", "must end with /3.0"),
        ("--oracle-framework-version", "12", "'12' is not a REST framework version Oracle has"),
        ("--display-name", "Acme\u202eCorp", "bidirectional formatting character"),
        ("--oracle-scope", "s" * TWO_MB, "at most 2,000"),
    ],
)
def test_update_refuses_a_bad_setting_and_keeps_the_tenant(
    stored: Run, cli_env: Database, key_store: KeyStore, flag: str, value: str, expected: str
) -> None:
    line = refused_writing_nothing(stored, cli_env, key_store, ["tenants", "update", "acme", flag, value])
    assert f"{flag}: " in line and expected in line, line


def test_update_refuses_a_bad_secret_and_keeps_the_stored_one(
    stored: Run,
    cli_env: Database,
    key_store: KeyStore,
    registry: TenantRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(BAD, MAILCHIMP_KEY + " ")
    args = ["tenants", "update", "acme", "--mailchimp-api-key-env", BAD]
    line = refused_writing_nothing(stored, cli_env, key_store, args)
    assert "the Mailchimp API key has leading or trailing whitespace" in line
    assert registry.mailchimp_secret(config()).get_secret_value() == MAILCHIMP_KEY


def _entry(path: str, value: Any) -> dict[str, Any]:
    """The sample tenant with `path` (e.g. oracle.base_url) set to `value`, secrets by reference."""
    data = settings()
    data["oracle"]["client_secret_env"] = ORACLE_SECRET_ENV
    data["mailchimp"]["api_key_env"] = MAILCHIMP_KEY_ENV
    *sections, field = path.split(".")
    target = data
    for section in sections:
        target = target.setdefault(section, {})
    target[field] = value
    return data


# (YAML key, value, what the line says after the key)
YAML_CASES: list[tuple[str, Any, str]] = [
    ("oracle.base_url", "https://169.254.169.254", "host 169.254.169.254 is a cloud metadata address"),
    ("oracle.base_url", "https://acme.fa.us2.oraclecloud.com:99999", "port '99999' is not a number"),
    ("oracle.base_url", f"https://{CYRILLIC_A}cme.fa.us2.oraclecloud.com", "internationalized (non-ASCII)"),
    ("oracle.base_url", "https://acme.fa.us2.oraclecloud.com\nHost: x", "(U+000A)"),
    ("oracle.token_url", "https://metadata.google.internal/t", "host metadata.google.internal is a cloud"),
    ("oracle.token_url", "https://[fe80::1]/t", "is a link-local address"),
    ("mailchimp.api_base", "https://us6.api.mailchimp.com", "must end with /3.0"),
    ("mailchimp.api_base", "https://192.168.0.9/3.0", "is a private-range address"),
    ("oracle.framework_version", "12", "'12' is not a REST framework version Oracle has"),
    ("display_name", "Acme\u202eCorp", "contains a bidirectional formatting character (U+202E"),
    ("display_name", "Acme\x00Corp", "contains a control or invisible character (U+0000)"),
    ("oracle.scope", "s" * TWO_MB, "is 2,000,000 characters long; at most 2,000"),
    ("oracle.client_id", "c" * TWO_MB, "is 2,000,000 characters long; at most 255"),
    ("oracle.resource_path", "/a b", "is not a resource path"),
    ("mapping.merge_fields", {"COMPANY": "NoSuchAttribute"}, "unknown Oracle attribute 'NoSuchAttribute'"),
    ("mapping.tag_rules", [{"attribute": "Nope"}], "unknown Oracle attribute 'Nope'"),
    ("policy.inactive_action", "shred\nit", "'shred\\u000ait' is not one of"),
    ("schedule.cron", "61 * * * *", "is not a 5-field cron expression"),
    ("mailchimp.list_id", "a\u202eb", "is not a Mailchimp audience id"),
    ("oracle.client_secret", "plain-in-the-file", "unknown setting"),
]


def _import_file(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump({"tenants": list(entries)}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("path", "value", "expected"), YAML_CASES)
def test_import_refuses_a_bad_setting_by_its_yaml_key(
    stored: Run, cli_env: Database, key_store: KeyStore, tmp_path: Path, path: str, value: Any, expected: str
) -> None:
    """An update of acme and a new tenant globex in one file: neither lands."""
    file = _import_file(tmp_path, _entry(path, value), {**_entry("id", "globex")})
    line = refused_writing_nothing(stored, cli_env, key_store, ["tenants", "import", str(file)])
    assert line.startswith(f"oracle-mailchimp: {file}: invalid tenant 'acme': ")
    assert f"{path}: " in line or path.startswith("mapping."), line
    assert expected in line, line


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("mailchimp.api_key_env", "not-a-key", "malformed Mailchimp API key"),
        ("mailchimp.api_key_env", MAILCHIMP_KEY + " ", "the Mailchimp API key has leading or trailing"),
        (
            "oracle.client_secret_env",
            "s3cret\u2603",
            "the Oracle client secret contains a character that is not",
        ),
    ],
)
def test_import_refuses_a_bad_secret_by_its_yaml_key(
    stored: Run,
    cli_env: Database,
    key_store: KeyStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(BAD, value)
    file = _import_file(tmp_path, _entry(key, BAD))
    line = refused_writing_nothing(
        stored, cli_env, key_store, ["tenants", "import", str(file)], value.strip()
    )
    assert f"tenant 'acme': {key} ({BAD}): {expected}" in line, line


def test_a_bad_tenant_id_is_shown_on_one_line(cli: Run, cli_env: Database, key_store: KeyStore) -> None:
    line = refused_writing_nothing(cli, cli_env, key_store, ["tenants", "add", "acme\nx", *ADD_FLAGS])
    assert "'acme\\u000ax' is not a tenant id" in line
