"""`oracle-mailchimp tenants test --json`, run as a subprocess against servers that echo credentials.

A tenant registered through the CLI points at echoing servers (the Oracle pod answers 400 with the
request's Authorization header in its body, Mailchimp 401 likewise): the report fails those checks
and shows none of the secrets, in plaintext, as base64 of user:secret or as the issued bearer token.
"""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from oracle_mailchimp_dagster.store import Database
from tests.fixtures.store import CliResult
from tests.security.conftest import HostileFactory
from tests.support.hostile_servers import (
    FUSION_CLIENT_ID,
    FUSION_USER,
    MAILCHIMP_USER,
    RESOURCE_PATH,
    SCOPE,
    TOKEN_PATH,
    Behaviour,
    b64,
    leaked,
)

Run = Callable[..., CliResult]
ORACLE_SECRET = "Oracle-Secret-4Echo-Tests"
MAILCHIMP_KEY = "fedcba9876543210fedcba9876543210-us6"

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed `oracle-mailchimp` command, in a process of its own."""
    command = Path(sys.executable).with_name("oracle-mailchimp")
    return subprocess.run(
        [str(command), *args], capture_output=True, text=True, timeout=120, env=dict(os.environ), check=False
    )


@pytest.mark.parametrize("oracle_auth", ["oauth", "basic"])
def test_the_json_report_of_echoing_servers_shows_no_secret(
    oracle_auth: str,
    cli_env: Database,
    run_cli: Run,
    hostile: HostileFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pod = hostile(resource=Behaviour("echo", 400))
    mailchimp = hostile(resource=Behaviour("echo", 401))
    monkeypatch.setenv("ECHO_ORACLE_SECRET", ORACLE_SECRET)
    monkeypatch.setenv("ECHO_MAILCHIMP_KEY", MAILCHIMP_KEY)
    oracle_flags = (
        [
            "--oracle-token-url",
            pod.url + TOKEN_PATH,
            "--oracle-scope",
            SCOPE,
            "--oracle-client-id",
            FUSION_CLIENT_ID,
        ]
        if oracle_auth == "oauth"
        else ["--oracle-auth", "basic", "--oracle-user", FUSION_USER]
    )
    added = run_cli(
        "tenants", "add", "acme", "--status-if-new", "transactional",
        "--oracle-base-url", pod.url,
        "--oracle-resource-path", RESOURCE_PATH,
        *oracle_flags,
        "--oracle-client-secret-env", "ECHO_ORACLE_SECRET",
        "--mailchimp-list-id", "a1b2c3d4e5",
        "--mailchimp-api-base", mailchimp.url + "/3.0",
        "--mailchimp-api-key-env", "ECHO_MAILCHIMP_KEY",
    )  # fmt: skip
    assert added.code == 0, added

    result = cli("tenants", "test", "acme", "--json")

    assert result.returncode == 1, result
    report = json.loads(result.stdout)
    checks = {check["name"]: check for check in report["checks"]}
    assert "HTTP 400" in checks["Oracle one-row query"]["detail"], checks
    assert "401" in checks["Mailchimp ping"]["detail"], checks
    # The servers saw the credentials they echoed.
    assert any(seen.authorization for seen in pod.seen) and any(s.authorization for s in mailchimp.seen)
    oracle_user = FUSION_CLIENT_ID if oracle_auth == "oauth" else FUSION_USER
    secrets = [
        ORACLE_SECRET,
        b64(f"{oracle_user}:{ORACLE_SECRET}"),
        MAILCHIMP_KEY,
        b64(f"{MAILCHIMP_USER}:{MAILCHIMP_KEY}"),
        pod.issued_token,
    ]
    assert leaked(result.stdout + result.stderr, secrets) == [], result.stdout
