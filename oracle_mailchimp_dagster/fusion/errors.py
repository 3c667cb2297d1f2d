"""Typed Oracle Fusion errors, and reading Oracle's detail out of text/plain or ADF error JSON.

Every message is redacted as it is built (`http.redaction`): a pod or proxy that echoes the request
into its error body must not put credentials into an exception, a log or the Dagster event log.
"""

from dataclasses import dataclass

import orjson

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http.redaction import Redact, redact_credentials
from oracle_mailchimp_dagster.http.refusals import RedirectRefused, TransportRefusal

_MAX_DETAIL = 500


@dataclass(frozen=True)
class OracleErrorDetail:
    """One entry of `o:errorDetails` (or the whole text/plain body)."""

    detail: str
    error_code: str | None = None
    error_path: str | None = None


class FusionError(Exception):
    """Anything the Fusion client could not do; names the tenant, never a credential."""

    def __init__(self, tenant: str, message: str) -> None:
        super().__init__(f"Oracle Fusion tenant '{tenant}': {redact_credentials(message)}")
        self.tenant = tenant


class FusionAuthError(FusionError, UserError):
    """Credentials or token rejected: fixable by the user (secret, scope, user roles).

    `status` is the HTTP status of the refusal (the token endpoint's or the pod's) and `oauth_error`
    the OAuth `error` code of the token endpoint's answer (invalid_client, invalid_scope...), when
    there is one. Neither ever holds a secret.
    """

    def __init__(
        self, tenant: str, message: str, *, status: int | None = None, oauth_error: str | None = None
    ) -> None:
        super().__init__(tenant, message)
        self.status = status
        self.oauth_error = oauth_error


class FusionRequestError(FusionError):
    """A 4xx other than 401: the request itself is wrong for this pod; carries Oracle's detail."""

    def __init__(self, tenant: str, status: int, details: tuple[OracleErrorDetail, ...], hint: str) -> None:
        text = "; ".join(d.detail for d in details) or "no detail given"
        super().__init__(tenant, f"HTTP {status}: {text}. {hint}")
        self.status = status
        self.details = details


class FusionUnavailableError(FusionError):
    """Transient failures (5xx, 429, HTML pages, timeouts, resets) outlasted the retry policy.

    `status` is the last answer's HTTP status; None when no answer came (refused, reset, timed out).
    """

    def __init__(
        self, tenant: str, reason: str, attempts: int, elapsed_s: float, *, status: int | None = None
    ) -> None:
        super().__init__(
            tenant, f"pod unavailable: {reason} after {attempts} attempt(s) over {elapsed_s:.1f}s"
        )
        self.reason = reason
        self.attempts = attempts
        self.status = status


class FusionResponseError(FusionError):
    """A 2xx answer that is not the ADF collection we asked for."""


class FusionKeysetError(FusionResponseError, UserError):
    """A row whose PartyId or LastUpdateDate is unusable: no cursor can be placed after it.

    Any other malformed attribute quarantines its row; these two stop the read, since skipping the row
    would mean guessing where the keyset stands. The record has to be fixed in Oracle. `index` is the
    row's position in its page, `party_number` is None when that is unreadable too, and `field` is
    the attribute at fault ("row" when the row is not even an object).
    """

    def __init__(
        self, tenant: str, *, index: int, party_number: str | None, field: str, problem: str
    ) -> None:
        record = f"row {index} of the page" + (f" (PartyNumber {party_number})" if party_number else "")
        super().__init__(
            tenant,
            f"customer {record} has an unusable keyset value ({problem}), so the read stops there; "
            "fix that record in Oracle and run again",
        )
        self.index = index
        self.party_number = party_number
        self.field = field
        self.problem = problem


_HINTS = {
    400: "Oracle rejected the query: check the resource path, framework version and field names.",
    403: "The integration user lacks a privilege on this resource.",
    404: "Check the pod URL and the resource path (hubOrganizations on some ERP pods).",
    405: "The resource does not support this method.",
    406: "The pod refused the requested media type.",
}


class FusionConfigurationError(FusionError, UserError):
    """The transport refused an answer: a redirect (wrong base or token URL) or a body over the cap."""


def refusal_error(
    tenant: str, refusal: TransportRefusal, url_name: str, where: str = ""
) -> FusionConfigurationError:
    """A transport refusal as a configuration error, with what to check (`url_name`: "base URL")."""
    if isinstance(refusal, RedirectRefused):
        fix = f"check the {url_name}"
    else:
        fix = "raise the client's max_response_bytes or ask for smaller pages"
    return FusionConfigurationError(tenant, f"{where}: {refusal}: {fix}" if where else f"{refusal}: {fix}")


def hint_for(status: int) -> str:
    return _HINTS.get(status, "Unexpected client error from the pod.")


def parse_error_details(
    content_type: str, body: bytes, *, redact: Redact = redact_credentials
) -> tuple[OracleErrorDetail, ...]:
    """Oracle's error text, whether the pod sent ADF error JSON, other JSON, plain text or nothing.

    `redact` cleans every field taken from the body (pass one that knows the request's secrets).
    """
    return tuple(
        OracleErrorDetail(
            redact(d.detail),
            redact(d.error_code) if d.error_code else None,
            redact(d.error_path) if d.error_path else None,
        )
        for d in _raw_details(content_type, body)
    )


def _raw_details(content_type: str, body: bytes) -> tuple[OracleErrorDetail, ...]:
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return ()
    if "json" in content_type.lower() or text.startswith("{"):
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            document = None
        if isinstance(document, dict):
            return _json_details(document)
    if "html" in content_type.lower() or text.lower().startswith(("<!doctype", "<html")):
        return (OracleErrorDetail("an HTML error page"),)
    return (OracleErrorDetail(text[:_MAX_DETAIL]),)


def _json_details(document: dict[str, object]) -> tuple[OracleErrorDetail, ...]:
    entries = document.get("o:errorDetails")
    if isinstance(entries, list) and entries:
        return tuple(
            OracleErrorDetail(
                str(entry.get("detail") or entry.get("title") or "")[:_MAX_DETAIL],
                _optional_str(entry.get("o:errorCode")),
                _optional_str(entry.get("o:errorPath")),
            )
            for entry in entries
            if isinstance(entry, dict)
        )
    for key in ("detail", "title", "error_description", "error"):
        value = document.get(key)
        if value:
            return (OracleErrorDetail(str(value)[:_MAX_DETAIL], _optional_str(document.get("o:errorCode"))),)
    return ()


def _optional_str(value: object) -> str | None:
    return None if value in (None, "") else str(value)
