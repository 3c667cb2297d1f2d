"""`tenants test`: check a tenant end to end and report each check with the fix for each failure.

The checks take probe objects (thin adapters over the Oracle and Mailchimp clients, see `probes.py`)
so this module stays free of HTTP: it decides what was checked, what failed and what to do about it.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol, TypeVar

from oracle_mailchimp_dagster.http.redaction import Redactor
from oracle_mailchimp_dagster.sync.mapping import mapping_problems
from oracle_mailchimp_dagster.sync.model import ListField
from oracle_mailchimp_dagster.tenants.model import OracleAuthMode, TenantConfig

T = TypeVar("T")


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""


class ProbeError(Exception):
    """A failed call, as the probes report it: a readable message, the HTTP status and error code if any."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class OracleProbe(Protocol):
    def fetch_token(self) -> None:
        """Obtain an OAuth access token from the identity domain; raise ProbeError on failure."""

    def fetch_one(self) -> int:
        """Query one row of the tenant's customer resource; return how many rows came back (0 or 1)."""


class MailchimpProbe(Protocol):
    def ping(self) -> None:
        """GET /ping with the tenant's credentials; raise ProbeError on failure."""

    def list_name(self, list_id: str) -> str:
        """The audience's name; raise ProbeError (status 404) when it does not exist."""

    def merge_fields(self, list_id: str) -> Sequence[ListField]:
        """Every merge field of the audience."""


def _describe(exc: Exception) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, ProbeError) and exc.status is not None and str(exc.status) not in message:
        return f"HTTP {exc.status}: {message}"
    return message


def _attempt(call: Callable[[], T]) -> tuple[T | None, Exception | None]:
    try:
        return call(), None
    except Exception as exc:  # any client failure becomes a failed check, never a traceback
        return None, exc


def _status(exc: Exception) -> int | None:
    return exc.status if isinstance(exc, ProbeError) else None


def check_oracle_token(tenant: TenantConfig, oracle: OracleProbe) -> CheckResult:
    name = "Oracle token"
    _, error = _attempt(oracle.fetch_token)
    if error is None:
        return CheckResult(name, True, f"access token issued by {tenant.oracle.token_url}")
    flag = f"oracle-mailchimp tenants update {tenant.id}"
    status, code = _status(error), getattr(error, "code", None)
    if status == 401 or code == "invalid_client":
        fix = f"the client id or secret is wrong; set them again: {flag} --oracle-client-secret-env VAR"
    elif code == "invalid_scope" or (status == 400 and "scope" in str(error).lower()):
        fix = f"the identity domain does not accept the scope; fix it: {flag} --oracle-scope SCOPE"
    elif status is None:
        fix = f"cannot reach the token endpoint: check --oracle-token-url ({tenant.oracle.token_url})"
    else:
        fix = f"check the token URL, client id and scope: {flag} --oracle-token-url URL --oracle-scope S"
    return CheckResult(name, False, _describe(error), fix)


def check_oracle_query(tenant: TenantConfig, oracle: OracleProbe) -> CheckResult:
    name = "Oracle one-row query"
    rows, error = _attempt(oracle.fetch_one)
    resource = f"{tenant.oracle.base_url}{tenant.oracle.resource_path}"
    if error is None:
        if rows:
            return CheckResult(name, True, f"{resource} returned a row")
        return CheckResult(
            name,
            True,
            f"{resource} answered but returned no rows (an empty pod, or a user without data access: "
            "Fusion answers 200 with no rows rather than 403)",
        )
    status = _status(error)
    flag = f"oracle-mailchimp tenants update {tenant.id}"
    if status == 401:
        credential = "password" if tenant.oracle.auth is OracleAuthMode.BASIC else "token"
        fix = (
            f"the pod refused the {credential}; check the credentials: {flag} --oracle-client-secret-env VAR"
        )
    elif status == 403:
        fix = "the integration user lacks a role that can read customer accounts"
    elif status == 404:
        fix = f"no such resource: check --oracle-base-url and --oracle-resource-path ({resource})"
    elif status == 400:
        version = tenant.oracle.framework_version
        fix = f"the pod rejected the query: check --oracle-framework-version ({version})"
    elif status is None:
        fix = f"cannot reach the pod: check --oracle-base-url ({tenant.oracle.base_url})"
    else:
        fix = "the pod failed; try again later, and check Oracle's service status"
    return CheckResult(name, False, _describe(error), fix)


def check_mailchimp_ping(tenant: TenantConfig, mailchimp: MailchimpProbe) -> CheckResult:
    name = "Mailchimp ping"
    _, error = _attempt(mailchimp.ping)
    if error is None:
        return CheckResult(name, True, "credentials accepted")
    status = _status(error)
    flag = f"oracle-mailchimp tenants update {tenant.id}"
    if status in (401, 403):
        fix = f"the API key is wrong or revoked; set it again: {flag} --mailchimp-api-key-env VAR"
    elif status is None:
        fix = "cannot reach Mailchimp: check --mailchimp-api-base (or the data centre suffix of the API key)"
    else:
        fix = "Mailchimp failed; try again later, and check its status page"
    return CheckResult(name, False, _describe(error), fix)


def check_mailchimp_list(tenant: TenantConfig, mailchimp: MailchimpProbe) -> CheckResult:
    name = "Mailchimp audience"
    list_id = tenant.mailchimp.list_id
    title, error = _attempt(lambda: mailchimp.list_name(list_id))
    if error is None:
        return CheckResult(name, True, f"audience {list_id} is '{title}'")
    if _status(error) == 404:
        command = f"oracle-mailchimp tenants update {tenant.id} --mailchimp-list-id ID"
        fix = f"no audience {list_id} in this account; fix it: {command}"
        return CheckResult(name, False, _describe(error), fix)
    return CheckResult(name, False, _describe(error), "check the audience id and the API key's account")


def compare_merge_fields(tenant: TenantConfig, fields: Sequence[ListField]) -> CheckResult:
    """Pure: the same mapping-against-audience check that stops a sync run before any write."""
    name = "Mailchimp merge fields"
    by_tag = {field.tag: field for field in fields}
    problems = mapping_problems(tenant.mapping.resolve(), by_tag)
    if not problems:
        return CheckResult(name, True, f"{', '.join(sorted(tenant.mapping.merge_fields))} present and usable")
    missing = sorted(tag for tag in tenant.mapping.merge_fields if tag not in by_tag)
    fixes = []
    if missing:
        fixes.append(f"create {', '.join(missing)} in the audience (Settings > Audience fields)")
    fixes.append("or change the tenant's mapping (`oracle-mailchimp tenants import FILE.yaml`)")
    return CheckResult(name, False, "; ".join(problems), " ".join(fixes))


def check_merge_fields(tenant: TenantConfig, mailchimp: MailchimpProbe) -> CheckResult:
    fields, error = _attempt(lambda: mailchimp.merge_fields(tenant.mailchimp.list_id))
    if error is not None or fields is None:
        detail = _describe(error) if error else "no answer"
        return CheckResult("Mailchimp merge fields", False, detail, "check the audience id and API key")
    return compare_merge_fields(tenant, fields)


def _not_run(name: str, because: str) -> CheckResult:
    return CheckResult(name, False, f"not run: {because} failed", f"fix '{because}' first")


def run_checks(
    tenant: TenantConfig, oracle: OracleProbe, mailchimp: MailchimpProbe, secrets: Sequence[str] = ()
) -> list[CheckResult]:
    """Every check in order; a check whose prerequisite failed is reported as not run."""
    results: list[CheckResult] = []
    oracle_ready = True
    if tenant.oracle.auth is OracleAuthMode.OAUTH:
        token = check_oracle_token(tenant, oracle)
        results.append(token)
        oracle_ready = token.ok
    if oracle_ready:
        results.append(check_oracle_query(tenant, oracle))
    else:
        results.append(_not_run("Oracle one-row query", "Oracle token"))
    ping = check_mailchimp_ping(tenant, mailchimp)
    results.append(ping)
    if not ping.ok:
        results.append(_not_run("Mailchimp audience", "Mailchimp ping"))
        results.append(_not_run("Mailchimp merge fields", "Mailchimp ping"))
    else:
        audience = check_mailchimp_list(tenant, mailchimp)
        results.append(audience)
        if audience.ok:
            results.append(check_merge_fields(tenant, mailchimp))
        else:
            results.append(_not_run("Mailchimp merge fields", "Mailchimp audience"))
    # Defence in depth: the clients redact their own errors; the report redacts everything again, with
    # the tenant's secrets known (plaintext, any encoding) and any credential-shaped text.
    redact = Redactor(secrets)
    return [CheckResult(r.name, r.ok, redact(r.detail), redact(r.fix)) for r in results]


def render_report(tenant: TenantConfig, results: Sequence[CheckResult]) -> str:
    """A readable report: one line per check, the fix under each failure, a summary line."""
    lines = [f"Checking tenant {tenant.id} ({tenant.display_name})"]
    width = max((len(r.name) for r in results), default=0)
    for result in results:
        lines.append(f"  {'ok  ' if result.ok else 'FAIL'}  {result.name:<{width}}  {result.detail}")
        if not result.ok and result.fix:
            lines.append(f"        {'':<{width}}  fix: {result.fix}")
    passed = sum(r.ok for r in results)
    verdict = "all checks passed" if passed == len(results) else f"{len(results) - passed} failed"
    lines.append(f"{passed} of {len(results)} checks passed: {verdict}")
    return "\n".join(lines)


def report_json(tenant: TenantConfig, results: Sequence[CheckResult]) -> str:
    payload = {"tenant": tenant.id, "ok": all(r.ok for r in results), "checks": [asdict(r) for r in results]}
    return json.dumps(payload, indent=2)
