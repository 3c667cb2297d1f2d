"""`oracle-mailchimp tenants test` end to end: a tenant registered from the sandboxes' env file, checked
over real HTTP against both sandboxes, with the fix for each failure and no secret in any output.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from oracle_mailchimp_dagster.sandbox.runner import SandboxOptions, SandboxPair
from oracle_mailchimp_dagster.store import Database
from tests.fixtures.store import CliResult
from tests.support.tenant_writes import tamper_setting

Run = Callable[..., CliResult]
CHECKS = [
    "Oracle token",
    "Oracle one-row query",
    "Mailchimp ping",
    "Mailchimp audience",
    "Mailchimp merge fields",
]
WRONG_ORACLE_SECRET = "Wr0ng-oracle-client-secret"
UNKNOWN_MAILCHIMP_KEY = "0123456789abcdef0123456789abcdef-us21"

# The command's logic does not depend on the database backend; SQLite keeps these tests quick.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def sandboxes() -> Iterator[SandboxPair]:
    """Both sandboxes, as `oracle-mailchimp sandbox serve` starts them."""
    with SandboxPair(SandboxOptions(customers=20)) as pair:
        yield pair


@pytest.fixture
def acme(cli_env: Database, run_cli: Run, sandboxes: SandboxPair, tmp_path: Path) -> Run:
    """Tenant `acme` registered from the env file `sandbox serve --env-file` writes."""
    env_file = tmp_path / ".sandbox.env"
    sandboxes.write_env_file(env_file)
    added = run_cli("tenants", "add", "acme", "--status-if-new", "transactional", "--env-file", str(env_file))
    assert added.code == 0, added
    return run_cli


def secrets_of(sandboxes: SandboxPair) -> list[str]:
    env = sandboxes.env()
    return [env["ORACLE_CLIENT_SECRET"], env["MAILCHIMP_API_KEY"], WRONG_ORACLE_SECRET, UNKNOWN_MAILCHIMP_KEY]


def assert_no_secrets(sandboxes: SandboxPair, *results: CliResult) -> None:
    for result in results:
        for secret in secrets_of(sandboxes):
            assert secret not in result.output


def report_lines(result: CliResult) -> dict[str, str]:
    """Check name -> its report line (and the fix line under it, if any)."""
    lines = result.out.splitlines()
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        for name in CHECKS:
            if line.startswith(("  ok    ", "  FAIL  ")) and line[8:].startswith(name + " "):
                fix = lines[index + 1] if index + 1 < len(lines) and "fix: " in lines[index + 1] else ""
                found[name] = line + ("\n" + fix if fix else "")
    return found


def test_a_tenant_on_the_sandboxes_passes_every_check(acme: Run, sandboxes: SandboxPair) -> None:
    result = acme("tenants", "test", "acme")
    assert result.code == 0, result
    assert result.err == "" and "Traceback" not in result.output
    assert result.out.splitlines()[0] == "Checking tenant acme (acme)"
    lines = report_lines(result)
    assert list(lines) == CHECKS and all(line.startswith("  ok    ") for line in lines.values()), result.out
    assert "Oracle Fusion Customers" in lines["Mailchimp audience"]
    assert result.out.rstrip().endswith("5 of 5 checks passed: all checks passed")

    as_json = acme("tenants", "test", "acme", "--json")
    assert as_json.code == 0, as_json
    report = json.loads(as_json.out)
    assert report["tenant"] == "acme" and report["ok"] is True
    assert [(c["name"], c["ok"]) for c in report["checks"]] == [(name, True) for name in CHECKS]
    assert_no_secrets(sandboxes, result, as_json)


def test_a_wrong_oracle_secret_fails_the_token_check_with_its_fix(
    acme: Run, sandboxes: SandboxPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert acme("tenants", "test", "acme").code == 0, "a token is issued (and cached in this process)"
    monkeypatch.setenv("WRONG_SECRET", WRONG_ORACLE_SECRET)
    assert acme("tenants", "update", "acme", "--oracle-client-secret-env", "WRONG_SECRET").code == 0

    result = acme("tenants", "test", "acme")
    assert result.code == 1, result
    assert result.err == "oracle-mailchimp: 2 of 5 checks failed for tenant 'acme'\n"
    lines = report_lines(result)
    token = lines["Oracle token"]
    assert token.startswith("  FAIL  Oracle token") and "invalid_client" in token
    assert "fix: the client id or secret is wrong; set them again: " in token
    assert "oracle-mailchimp tenants update acme --oracle-client-secret-env VAR" in token
    assert "not run: Oracle token failed" in lines["Oracle one-row query"]
    assert all(lines[name].startswith("  ok    ") for name in CHECKS[2:]), result.out

    as_json = acme("tenants", "test", "acme", "--json")
    assert as_json.code == 1
    report = json.loads(as_json.out)
    assert report["ok"] is False
    failed = {c["name"]: c for c in report["checks"] if not c["ok"]}
    assert list(failed) == ["Oracle token", "Oracle one-row query"]
    assert "--oracle-client-secret-env" in failed["Oracle token"]["fix"]

    # The fix the report names, applied, makes the check pass.
    monkeypatch.setenv("RIGHT_SECRET", sandboxes.env()["ORACLE_CLIENT_SECRET"])
    assert acme("tenants", "update", "acme", "--oracle-client-secret-env", "RIGHT_SECRET").code == 0
    fixed = acme("tenants", "test", "acme")
    assert fixed.code == 0, fixed
    assert_no_secrets(sandboxes, result, as_json, fixed)


def test_an_unknown_mailchimp_key_fails_the_ping_with_its_fix(
    acme: Run, sandboxes: SandboxPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_KEY", UNKNOWN_MAILCHIMP_KEY)
    assert acme("tenants", "update", "acme", "--mailchimp-api-key-env", "OTHER_KEY").code == 0

    result = acme("tenants", "test", "acme")
    assert result.code == 1, result
    assert result.err == "oracle-mailchimp: 3 of 5 checks failed for tenant 'acme'\n"
    lines = report_lines(result)
    ping = lines["Mailchimp ping"]
    assert ping.startswith("  FAIL  Mailchimp ping") and "401" in ping and "API Key Invalid" in ping
    assert (
        "fix: the API key is wrong or revoked; set it again: "
        "oracle-mailchimp tenants update acme --mailchimp-api-key-env VAR" in ping
    )
    assert "not run: Mailchimp ping failed" in lines["Mailchimp audience"]
    assert "not run: Mailchimp ping failed" in lines["Mailchimp merge fields"]
    assert lines["Oracle token"].startswith("  ok    ") and lines["Oracle one-row query"].startswith(
        "  ok    "
    )

    as_json = acme("tenants", "test", "acme", "--json")
    report = json.loads(as_json.out)
    assert [c["name"] for c in report["checks"] if not c["ok"]] == CHECKS[2:]
    assert_no_secrets(sandboxes, result, as_json)


def test_a_wrong_audience_id_fails_the_audience_check_with_its_fix(acme: Run, sandboxes: SandboxPair) -> None:
    assert acme("tenants", "update", "acme", "--mailchimp-list-id", "0000000000").code == 0
    result = acme("tenants", "test", "acme")
    assert result.code == 1, result
    audience = report_lines(result)["Mailchimp audience"]
    assert audience.startswith("  FAIL  Mailchimp audience") and "404" in audience
    assert "fix: no audience 0000000000 in this account; fix it: " in audience
    assert "oracle-mailchimp tenants update acme --mailchimp-list-id ID" in audience
    assert_no_secrets(sandboxes, result)


def test_settings_no_client_can_use_are_refused_at_update_and_read(
    acme: Run, sandboxes: SandboxPair, cli_env: Database
) -> None:
    refused = acme("tenants", "update", "acme", "--oracle-framework-version", "12")
    assert refused.code != 0 and refused.out == "", refused
    assert refused.err == (
        "oracle-mailchimp: invalid tenant 'acme': --oracle-framework-version: '12' is not a REST "
        "framework version Oracle has (a whole number from 1 to 9)\n"
    )
    # Written straight into the database, it is named in one line when the tenant is read.
    tamper_setting(cli_env, "acme", "oracle", "framework_version", "12")
    result = acme("tenants", "test", "acme")
    assert result.code != 0 and result.out == "", result
    assert result.err.startswith(
        "oracle-mailchimp: invalid stored tenant 'acme': oracle.framework_version: '12' is not"
    )
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    # ... and such a tenant can still be removed (remove does not need its settings to validate).
    removed = acme("tenants", "remove", "acme", "--yes")
    assert removed.code == 0 and removed.out == "removed tenant acme (its ledger rows are kept)\n", removed
    assert acme("tenants", "list").out.count("acme") == 0
    assert_no_secrets(sandboxes, refused, result, removed)
