"""The `tenants`, `keys` and `db` commands, run in-process and once as a real subprocess."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from oracle_mailchimp_dagster.secrets import KeyStore
from oracle_mailchimp_dagster.store import Database, schema_status
from oracle_mailchimp_dagster.store.schema import tenant_secrets
from oracle_mailchimp_dagster.tenants import TenantRegistry
from tests.fixtures.store import CliResult, dump_database
from tests.support.cli_tenants import STATUS_FLAGS
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET

Run = Callable[..., CliResult]
STDIN_SECRET = "stdin-Or4cle-secret"
FILE_SECRET = "file-Or4cle-secret"
FILE_KEY = "fedcba9876543210fedcba9876543210-us1"
ALL_SECRETS = (ORACLE_SECRET, MAILCHIMP_KEY, STDIN_SECRET, FILE_SECRET, FILE_KEY)

ADD_FLAGS = [
    *STATUS_FLAGS,
    "--oracle-base-url",
    "https://acme.fa.us2.oraclecloud.com",
    "--oracle-token-url",
    "https://idcs-0123.identity.oraclecloud.com/oauth2/v1/token",
    "--oracle-scope",
    "urn:opc:resource:fa:instanceid=1234567urn:opc:resource:consumer::all",
    "--oracle-client-id",
    "acme-client",
    "--oracle-client-secret-env",
    "ACME_ORACLE_SECRET",
    "--mailchimp-list-id",
    "a1b2c3d4e5",
    "--mailchimp-api-key-env",
    "ACME_MAILCHIMP_KEY",
]


@pytest.fixture
def env_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_ORACLE_SECRET", ORACLE_SECRET)
    monkeypatch.setenv("ACME_MAILCHIMP_KEY", MAILCHIMP_KEY)


@pytest.fixture
def cli(cli_env: Database, env_secrets: None, run_cli: Run) -> Run:
    """`run_cli` on a migrated test database with the sample secrets in the environment."""
    return run_cli


@pytest.fixture
def sandbox_env_file(tmp_path: Path) -> Path:
    """An env file shaped like the one `oracle-mailchimp sandbox serve --env-file` writes."""
    path = tmp_path / ".sandbox.env"
    path.write_text(
        "ORACLE_BASE_URL=http://127.0.0.1:18001\n"
        "ORACLE_TOKEN_URL=http://127.0.0.1:18001/oauth2/v1/token\n"
        "ORACLE_SCOPE=urn:opc:resource:fa:instanceid=1234567urn:opc:resource:consumer::all\n"
        "ORACLE_CLIENT_ID=sandbox-client\n"
        f"ORACLE_CLIENT_SECRET={FILE_SECRET}\n"
        "ORACLE_RESOURCE_PATH=/crmRestApi/resources/11.13.18.05/accounts\n"
        f"MAILCHIMP_API_KEY={FILE_KEY}\n"
        "MAILCHIMP_API_BASE=http://127.0.0.1:18002/3.0\n"
        "MAILCHIMP_LIST_ID=a1b2c3d4e5\n",
        encoding="utf-8",
    )
    return path


def one_error_line(result: CliResult) -> str:
    assert result.code != 0, result
    assert result.out == "", result
    assert result.err.startswith("oracle-mailchimp: ") and result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err
    return result.err.strip()


def no_secrets_in(*texts: str) -> None:
    for text in texts:
        for secret in ALL_SECRETS:
            assert secret not in text


def test_add_list_show_update_remove(cli: Run, cli_env: Database) -> None:
    transcript: list[CliResult] = []

    def run(*args: str, stdin: str | None = None) -> CliResult:
        result = cli(*args, stdin=stdin)
        transcript.append(result)
        return result

    added = run("tenants", "add", "acme", "--display-name", "Acme Corp", *ADD_FLAGS)
    assert added.code == 0, added
    assert "added tenant acme" in added.out and "oracle-mailchimp tenants test acme" in added.out

    listed = run("tenants", "list")
    assert listed.out.splitlines()[0].split() == [
        "ID",
        "NAME",
        "ENABLED",
        "SCHEDULE",
        "ORACLE",
        "POD",
        "AUDIENCE",
        "ALERTS",
    ]
    assert "acme  Acme Corp" in listed.out
    as_json = json.loads(run("tenants", "list", "--json").out)
    assert [(t["id"], t["oracle"]["client_id"]) for t in as_json] == [("acme", "acme-client")]

    shown = run("tenants", "show", "acme")
    settings = yaml.safe_load(shown.out)
    assert settings["oracle"]["base_url"] == "https://acme.fa.us2.oraclecloud.com"
    assert "#   oracle_client_secret: key " in shown.out and "# sync: no committed run yet" in shown.out
    shown_json = json.loads(run("tenants", "show", "acme", "--json").out)
    assert sorted(s["name"] for s in shown_json["secrets"]) == ["mailchimp_api_key", "oracle_client_secret"]

    updated = run(
        "tenants", "update", "acme", "--schedule", "0 6 * * 1-5", "--timezone", "Europe/Paris", "--disable",
        "--inactive-action", "archive", "--oracle-client-secret-stdin", stdin=STDIN_SECRET + "\n",
    )  # fmt: skip
    assert updated.code == 0, updated
    assert updated.out.strip() == "updated tenant acme (new oracle_client_secret)"
    after = json.loads(run("tenants", "show", "acme", "--json").out)["tenant"]
    assert (after["schedule"], after["enabled"], after["policy"]["inactive_action"]) == (
        {"cron": "0 6 * * 1-5", "timezone": "Europe/Paris"},
        False,
        "archive",
    )
    assert after["oracle"]["client_id"] == "acme-client"

    removed = run("tenants", "remove", "acme", "--yes")
    assert removed.code == 0 and "removed tenant acme" in removed.out
    assert run("tenants", "list").out.startswith("no tenants yet")
    no_secrets_in(*(r.output for r in transcript))


def test_add_from_the_sandbox_env_file(cli: Run, cli_env: Database, sandbox_env_file: Path) -> None:
    result = cli("tenants", "add", "sandbox", *STATUS_FLAGS, "--env-file", str(sandbox_env_file))
    assert result.code == 0, result
    tenant = json.loads(cli("tenants", "show", "sandbox", "--json").out)["tenant"]
    assert tenant["oracle"]["base_url"] == "http://127.0.0.1:18001"
    assert tenant["mailchimp"]["api_base"] == "http://127.0.0.1:18002/3.0"
    assert tenant["oracle"]["client_id"] == "sandbox-client"
    flags_win = cli(
        "tenants", "add", "other", *STATUS_FLAGS, "--env-file", str(sandbox_env_file),
        "--mailchimp-list-id", "z9y8x7w6v5",
    )  # fmt: skip
    assert flags_win.code == 0
    assert (
        json.loads(cli("tenants", "show", "other", "--json").out)["tenant"]["mailchimp"]["list_id"]
        == "z9y8x7w6v5"
    )
    no_secrets_in(result.output, flags_win.output, dump_database(cli_env))


def test_import_a_yaml_file(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "tenants.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "tenants": [
                    {
                        "id": "globex",
                        "oracle": {
                            "base_url": "https://globex.fa.em2.oraclecloud.com",
                            "auth": "basic",
                            "client_id": "INTEGRATION.USER",
                            "password_env": "ACME_ORACLE_SECRET",
                        },
                        "mailchimp": {"list_id": "f0e9d8c7b6", "api_key_env": "ACME_MAILCHIMP_KEY"},
                        "policy": {"status_if_new": "pending"},
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    first = cli("tenants", "import", str(path))
    assert first.code == 0 and "created globex; updated none" in first.out
    second = cli("tenants", "import", str(path))
    assert "created none; updated globex" in second.out
    shown = json.loads(cli("tenants", "show", "globex", "--json").out)
    assert [s["name"] for s in shown["secrets"]] == ["mailchimp_api_key", "oracle_password"]


def test_keys_list_rotate_remove(cli: Run, cli_env: Database) -> None:
    assert cli("tenants", "add", "acme", *ADD_FLAGS).code == 0
    before = json.loads(cli("keys", "list", "--json").out)["keys"]
    assert [(k["primary"], k["secrets"]) for k in before] == [(True, 2)]
    old = before[0]["key_id"]
    rotated = cli("keys", "rotate")
    assert rotated.code == 0 and "re-encrypted 2 secret(s)" in rotated.out
    after = json.loads(cli("keys", "list", "--json").out)["keys"]
    assert [(k["key_id"] == old, k["secrets"]) for k in after] == [(False, 2), (True, 0)]
    assert cli("keys", "remove", old).code == 0
    assert [k["key_id"] for k in json.loads(cli("keys", "list", "--json").out)["keys"]] == [
        after[0]["key_id"]
    ]
    refused = one_error_line(cli("keys", "remove", after[0]["key_id"]))
    assert "still encrypts 2 secret(s)" in refused
    shown = cli("tenants", "show", "acme")
    assert f"key {after[0]['key_id']}" in shown.out
    no_secrets_in(rotated.output, shown.output, dump_database(cli_env))


def test_generated_keys_are_valid_master_keys(run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    generated = run_cli("keys", "generate").out.strip()
    from oracle_mailchimp_dagster.secrets import MasterKey

    assert MasterKey.parse(generated).key_id


def test_db_status_and_upgrade(run_cli: Run, empty_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORACLE_MAILCHIMP_DATABASE_URL", empty_db.url.render_as_string(hide_password=False))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # the instance: tests/cli/test_db_cli.py
    head = schema_status(empty_db).head
    behind = run_cli("db", "status")
    assert behind.code != 0
    assert "schema:   empty (no schema)" in behind.out
    assert behind.err.strip().endswith("run `oracle-mailchimp db upgrade`")
    refused = one_error_line(run_cli("tenants", "list"))
    assert refused == (
        f"oracle-mailchimp: database schema is at empty (no schema), this version needs {head}: "
        "run `oracle-mailchimp db upgrade`"
    )
    upgraded = run_cli("db", "upgrade")
    assert upgraded.code == 0 and f"schema upgraded from empty (no schema) to {head}" in upgraded.out
    status = run_cli("db", "status", "--json")
    assert status.code == 0 and json.loads(status.out)["state"] == "current"
    again = run_cli("db", "upgrade").out.strip().splitlines()
    assert again[0].endswith(f"schema already at {head}")
    assert again[1] == "Dagster instance: DAGSTER_HOME is not set, so there is no instance to prepare"


def test_help_names_the_database_and_key_locations(run_cli: Run) -> None:
    for group in ("tenants", "db"):
        result = run_cli(group, "--help")
        assert "ORACLE_MAILCHIMP_DATABASE_URL" in result.out and "oracle_mailchimp.db" in result.out
    assert "oracle_mailchimp.key" in run_cli("keys", "--help").out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--oracle-base-url", "http://acme.example.com"],
            "invalid tenant 'acme': --oracle-base-url: 'http://acme.example.com' must use https",
        ),
        (["--oracle-base-url", "not a url"], "--oracle-base-url: 'not a url' is not an absolute http(s) URL"),
        (
            ["--schedule", "every 15 minutes"],
            "--schedule: 'every 15 minutes' is not a 5-field cron expression",
        ),
        (["--timezone", "Mars/Olympus"], "--timezone: 'Mars/Olympus' is not an IANA time zone"),
        (["--inactive-action", "explode"], "Invalid value for '--inactive-action': 'explode' is not one of"),
        (["--status-if-new", "cleaned"], "Invalid value for '--status-if-new': 'cleaned' is not one of"),
        (["--oracle-client-secret-env", "UNSET_VARIABLE"], "environment variable UNSET_VARIABLE is not set"),
    ],
)
def test_bad_input_gets_one_clear_line(cli: Run, args: list[str], expected: str) -> None:
    message = one_error_line(cli("tenants", "add", "acme", *ADD_FLAGS, *args))
    assert expected in message
    assert cli("tenants", "list").out.startswith("no tenants yet")


def test_duplicate_and_unknown_tenants_get_one_clear_line(cli: Run) -> None:
    assert cli("tenants", "add", "acme", *ADD_FLAGS).code == 0
    assert "tenant 'acme' already exists" in one_error_line(cli("tenants", "add", "acme", *ADD_FLAGS))
    for command in (["show", "nobody"], ["update", "nobody", "--disable"], ["remove", "nobody", "--yes"]):
        assert one_error_line(cli("tenants", *command)) == (
            "oracle-mailchimp: no tenant 'nobody': see `oracle-mailchimp tenants list`"
        )
    assert "no tenant 'nobody'" in one_error_line(cli("tenants", "test", "nobody"))
    assert "not a tenant id" in one_error_line(cli("tenants", "add", "Not A Slug", *ADD_FLAGS))


def test_secrets_never_come_from_argv_and_missing_ones_are_asked_for(cli: Run) -> None:
    flags = [f for f in ADD_FLAGS if f not in ("--oracle-client-secret-env", "ACME_ORACLE_SECRET")]
    message = one_error_line(cli("tenants", "add", "acme", *flags, stdin=""))
    assert (
        "no Oracle client secret given: pass --oracle-client-secret-env VAR, --oracle-client-secret-stdin"
        in message
    )
    unknown = cli("tenants", "add", "acme", *flags, "--oracle-client-secret", ORACLE_SECRET)
    assert unknown.code != 0 and "No such option" in unknown.err
    both = one_error_line(
        cli(
            "tenants",
            "add",
            "acme",
            *flags,
            "--oracle-client-secret-stdin",
            "--mailchimp-api-key-stdin",
            stdin="x",
        )
    )
    assert "only one secret can come from standard input" in both


def test_remove_without_yes_asks_and_refuses_when_it_cannot(cli: Run) -> None:
    assert cli("tenants", "add", "acme", *ADD_FLAGS).code == 0
    assert "add --yes" in one_error_line(cli("tenants", "remove", "acme", stdin=""))
    assert "acme" in cli("tenants", "list").out


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite: covered in-process
def test_a_real_subprocess_keeps_secrets_out_of_its_output(cli_env: Database, tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "oracle-mailchimp"
    env = {**os.environ, "ACME_ORACLE_SECRET": ORACLE_SECRET, "ACME_MAILCHIMP_KEY": MAILCHIMP_KEY}
    outputs = []
    for args in (
        ["tenants", "add", "acme", *ADD_FLAGS],
        ["tenants", "show", "acme"],
        ["keys", "list"],
        ["tenants", "add", "acme", *ADD_FLAGS],
    ):
        done = subprocess.run([str(executable), *args], env=env, capture_output=True, text=True, timeout=60)
        outputs.append(done)
    assert [done.returncode for done in outputs] == [0, 0, 0, 2]
    assert outputs[-1].stderr.startswith("oracle-mailchimp: tenant 'acme' already exists")
    assert outputs[-1].stderr.count("\n") == 1
    no_secrets_in(*(done.stdout + done.stderr for done in outputs), dump_database(cli_env))


def test_rotation_stops_at_a_tampered_secret_and_names_it(cli: Run, cli_env: Database) -> None:
    assert cli("tenants", "add", "acme", *ADD_FLAGS).code == 0
    with cli_env.write() as conn:
        conn.execute(
            sa.update(tenant_secrets)
            .where(tenant_secrets.c.name == "mailchimp_api_key")
            .values(ciphertext=sa.func.upper(tenant_secrets.c.ciphertext))
        )
    rotated = cli("keys", "rotate")
    assert rotated.code != 0 and rotated.out.startswith("added primary key")
    message = rotated.err
    assert message.count("\n") == 1 and "Traceback" not in message
    assert message.startswith("oracle-mailchimp: cannot decrypt mailchimp_api_key of tenant 'acme': ")
    assert "keys rotate --reencrypt-only" in message
    with cli_env.read() as conn:
        for (ciphertext,) in conn.execute(sa.select(tenant_secrets.c.ciphertext)):
            assert ciphertext[:16] not in message


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_add_from_the_env_file_sandbox_serve_writes(
    cli: Run, cli_env: Database, key_store: KeyStore, tmp_path: Path
) -> None:
    from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair

    path = tmp_path / ".sandbox.env"
    with SandboxPair(SandboxOptions(customers=5)) as pair:
        pair.write_env_file(path)
        env = pair.env()
    result = cli("tenants", "add", "sandbox", *STATUS_FLAGS, "--env-file", str(path))
    assert result.code == 0, result
    registry = TenantRegistry(cli_env, key_store)
    tenant = registry.get("sandbox")
    assert (tenant.oracle.base_url, tenant.oracle.token_url, tenant.mailchimp.api_base) == (
        env["ORACLE_BASE_URL"],
        env["ORACLE_TOKEN_URL"],
        env["MAILCHIMP_API_BASE"],
    )
    assert registry.oracle_secret(tenant).get_secret_value() == env["ORACLE_CLIENT_SECRET"]
    assert registry.mailchimp_secret(tenant).get_secret_value() == env["MAILCHIMP_API_KEY"]
    assert env["ORACLE_CLIENT_SECRET"] not in result.output and env["MAILCHIMP_API_KEY"] not in result.output
