"""The `tenants add` flags of the sample tenant, and what a refused command must look like."""

from tests.fixtures.store import CliResult
from tests.support.tenant_samples import PLAINTEXTS

ORACLE_SECRET_ENV = "ACME_ORACLE_SECRET"
MAILCHIMP_KEY_ENV = "ACME_MAILCHIMP_KEY"
# The status `tenants add` must be told (there is no default): the sample's customers gave no consent.
STATUS_FLAGS = ["--status-if-new", "transactional"]
# Sample tenant `acme` (tests.support.tenant_samples.settings) as flags, secrets by variable.
ADD_FLAGS = [
    *STATUS_FLAGS,
    "--oracle-base-url", "https://acme.fa.us2.oraclecloud.com",
    "--oracle-token-url", "https://idcs-0123.identity.oraclecloud.com/oauth2/v1/token",
    "--oracle-scope", "urn:opc:resource:fa:instanceid=1234567urn:opc:resource:consumer::all",
    "--oracle-client-id", "acme-client",
    "--oracle-client-secret-env", ORACLE_SECRET_ENV,
    "--mailchimp-list-id", "a1b2c3d4e5",
    "--mailchimp-api-key-env", MAILCHIMP_KEY_ENV,
]  # fmt: skip


def refusal_line(result: CliResult, *secrets: str) -> str:
    """The one line of a refused command: non-zero exit, one non-empty line over stdout and stderr
    together, no traceback, and none of the sample secrets (or `secrets`)."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.code != 0, result
    assert len(lines) == 1, result
    assert "Traceback" not in result.output
    for secret in (*PLAINTEXTS, *secrets):
        assert secret not in result.output
    return lines[0]
