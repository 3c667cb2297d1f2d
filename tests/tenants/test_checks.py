"""`tenants test` reporting: which checks run, what each failure says, and how to fix it.

The probes here answer from a script (the Oracle and Mailchimp sandboxes are exercised once the real
clients are wired in, see tenants/probes.py); what is under test is the decision and report logic.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from oracle_mailchimp_dagster.diagnostics.checks import (
    CheckResult,
    ProbeError,
    compare_merge_fields,
    render_report,
    report_json,
    run_checks,
)
from oracle_mailchimp_dagster.sync.model import ListField
from tests.support.tenant_samples import MAILCHIMP_KEY, ORACLE_SECRET, config

AUDIENCE = [
    ListField("FNAME", "text"),
    ListField("LNAME", "text"),
    ListField("ADDRESS", "address"),
    ListField("PHONE", "phone"),
    ListField("BIRTHDAY", "birthday"),
]


@dataclass
class ScriptedOracle:
    token_error: Exception | None = None
    query_error: Exception | None = None
    rows: int = 1
    calls: list[str] = field(default_factory=list)

    def fetch_token(self) -> None:
        self.calls.append("token")
        if self.token_error:
            raise self.token_error

    def fetch_one(self) -> int:
        self.calls.append("query")
        if self.query_error:
            raise self.query_error
        return self.rows


@dataclass
class ScriptedMailchimp:
    ping_error: Exception | None = None
    list_error: Exception | None = None
    fields: Sequence[ListField] = tuple(AUDIENCE)
    calls: list[str] = field(default_factory=list)

    def ping(self) -> None:
        self.calls.append("ping")
        if self.ping_error:
            raise self.ping_error

    def list_name(self, list_id: str) -> str:
        self.calls.append(f"list {list_id}")
        if self.list_error:
            raise self.list_error
        return "Acme customers"

    def merge_fields(self, list_id: str) -> Sequence[ListField]:
        self.calls.append(f"fields {list_id}")
        return self.fields


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.name: result for result in results}


def test_everything_passes_against_a_default_audience() -> None:
    results = run_checks(config(), ScriptedOracle(), ScriptedMailchimp())
    assert [r.name for r in results] == [
        "Oracle token",
        "Oracle one-row query",
        "Mailchimp ping",
        "Mailchimp audience",
        "Mailchimp merge fields",
    ]
    assert all(r.ok for r in results), results
    report = render_report(config(), results)
    assert report.splitlines()[-1] == "5 of 5 checks passed: all checks passed"
    assert "audience a1b2c3d4e5 is 'Acme customers'" in report


def test_a_wrong_client_secret_fails_the_token_with_its_fix_and_skips_the_query() -> None:
    oracle = ScriptedOracle(
        token_error=ProbeError("Client authentication failed.", status=401, code="invalid_client")
    )
    results = by_name(run_checks(config(), oracle, ScriptedMailchimp()))
    token = results["Oracle token"]
    assert not token.ok
    assert token.detail == "HTTP 401: Client authentication failed."
    assert "client id or secret is wrong" in token.fix and "--oracle-client-secret-env" in token.fix
    assert results["Oracle one-row query"].detail == "not run: Oracle token failed"
    assert oracle.calls == ["token"]
    assert results["Mailchimp ping"].ok


def test_a_wrong_scope_points_at_the_scope() -> None:
    oracle = ScriptedOracle(token_error=ProbeError("Invalid scope.", status=400, code="invalid_scope"))
    token = by_name(run_checks(config(), oracle, ScriptedMailchimp()))["Oracle token"]
    assert "--oracle-scope" in token.fix


def test_a_wrong_api_key_fails_the_ping_and_skips_the_audience_checks() -> None:
    mailchimp = ScriptedMailchimp(ping_error=ProbeError("API Key Invalid", status=401))
    results = by_name(run_checks(config(), ScriptedOracle(), mailchimp))
    assert "--mailchimp-api-key-env" in results["Mailchimp ping"].fix
    assert results["Mailchimp audience"].detail == "not run: Mailchimp ping failed"
    assert results["Mailchimp merge fields"].detail == "not run: Mailchimp ping failed"
    assert mailchimp.calls == ["ping"]


def test_an_unknown_audience_says_which_id() -> None:
    mailchimp = ScriptedMailchimp(
        list_error=ProbeError("The requested resource could not be found.", status=404)
    )
    results = by_name(run_checks(config(), ScriptedOracle(), mailchimp))
    assert "no audience a1b2c3d4e5" in results["Mailchimp audience"].fix
    assert results["Mailchimp merge fields"].detail == "not run: Mailchimp audience failed"


def test_unreachable_services_point_at_the_urls() -> None:
    oracle = ScriptedOracle(token_error=ConnectionError("Connection refused"))
    results = by_name(run_checks(config(), oracle, ScriptedMailchimp(ping_error=TimeoutError("timed out"))))
    assert "check --oracle-token-url" in results["Oracle token"].fix
    assert results["Oracle token"].detail == "Connection refused"
    assert "check --mailchimp-api-base" in results["Mailchimp ping"].fix


def test_basic_auth_has_no_token_check_and_a_refused_password_is_explained() -> None:
    tenant = config(oracle={"auth": "basic", "token_url": None, "scope": None})
    oracle = ScriptedOracle(query_error=ProbeError("Unauthorized", status=401))
    results = run_checks(tenant, oracle, ScriptedMailchimp())
    assert results[0].name == "Oracle one-row query"
    assert "refused the password" in results[0].fix


def test_an_empty_answer_passes_with_a_warning() -> None:
    query = by_name(run_checks(config(), ScriptedOracle(rows=0), ScriptedMailchimp()))["Oracle one-row query"]
    assert query.ok and "no rows" in query.detail


def test_missing_and_mistyped_merge_fields_fail_with_the_tags_to_create() -> None:
    tenant = config(mapping={"merge_fields": {"COMPANY": "OrganizationName", "ADDRESS": "@billing_address"}})
    fields = [ListField("ADDRESS", "text"), ListField("REGION", "text", required=True)]
    result = compare_merge_fields(tenant, fields)
    assert not result.ok
    assert "COMPANY" in result.detail and "ADDRESS is of type text" in result.detail
    assert "REGION is required in the list but not mapped" in result.detail
    assert result.fix.startswith("create COMPANY in the audience")


def test_secrets_echoed_by_a_client_are_redacted() -> None:
    oracle = ScriptedOracle(token_error=ProbeError(f"bad secret {ORACLE_SECRET}", status=401))
    mailchimp = ScriptedMailchimp(ping_error=ProbeError(f"key {MAILCHIMP_KEY} invalid", status=401))
    results = run_checks(config(), oracle, mailchimp, secrets=[ORACLE_SECRET, MAILCHIMP_KEY])
    text = render_report(config(), results) + report_json(config(), results)
    assert ORACLE_SECRET not in text and MAILCHIMP_KEY not in text
    assert "**********" in text


def test_the_json_report_carries_every_check() -> None:
    results = run_checks(
        config(), ScriptedOracle(), ScriptedMailchimp(ping_error=ProbeError("down", status=503))
    )
    payload = json.loads(report_json(config(), results))
    assert payload["tenant"] == "acme" and payload["ok"] is False
    assert [c["ok"] for c in payload["checks"]] == [True, True, False, False, False]
    assert set(payload["checks"][0]) == {"name", "ok", "detail", "fix"}
