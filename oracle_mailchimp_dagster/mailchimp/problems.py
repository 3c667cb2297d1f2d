"""Read Mailchimp error bodies (problem+json, HTML pages, batch member errors) into problems.

Every text taken from a body is redacted (`http.redaction`): a server or proxy echoing the request
must not put the API key or token into a problem.
"""

from collections.abc import Mapping
from typing import Any

import orjson

from oracle_mailchimp_dagster.http.redaction import Redact, redact_credentials
from oracle_mailchimp_dagster.mailchimp.errors import (
    ErrorKind,
    FieldError,
    MailchimpProblem,
    Scope,
    classify,
)

_MAX_TEXT = 500


def problem_from_body(
    status: int,
    content_type: str,
    body: bytes,
    *,
    scope: Scope,
    request_id: str | None = None,
    redact: Redact = redact_credentials,
) -> MailchimpProblem:
    """A problem from a whole-response error; HTML or empty bodies keep only the status.

    `redact` cleans every text taken from the body (pass one that knows the request's secret).
    """
    document: Any = None
    if body and ("json" in content_type.lower() or body.lstrip()[:1] == b"{"):
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            document = None
    if not isinstance(document, dict):
        is_html = b"<html" in body[:512].lower() or "html" in content_type.lower()
        title = (
            "HTML error page" if is_html else ("Empty response" if not body.strip() else "Non-JSON response")
        )
        return MailchimpProblem(
            classify(status, title, scope=scope), title, "", status, request_id=request_id
        )
    title = str(document.get("title") or "")
    detail = str(document.get("detail") or "")[:_MAX_TEXT]
    field_errors = tuple(
        FieldError(str(e.get("field") or ""), str(e.get("message") or "")[:_MAX_TEXT])
        for e in document.get("errors") or ()
        if isinstance(e, Mapping)
    )
    kind = classify(status, title, detail, scope=scope, has_field_errors=bool(field_errors))
    return MailchimpProblem(
        kind,
        title or f"HTTP {status}",
        detail,
        status,
        field_errors,
        request_id=request_id or (str(document.get("instance")) if document.get("instance") else None),
    ).redacted(redact)


def problem_from_batch_error(entry: Mapping[str, Any]) -> MailchimpProblem:
    """A problem from one `errors[]` entry of a batch subscribe answer."""
    message = str(entry.get("error") or "")[:_MAX_TEXT]
    code = str(entry.get("error_code") or "") or None
    field = str(entry.get("field") or "")
    field_message = str(entry.get("field_message") or "")
    field_errors = (FieldError(field, field_message[:_MAX_TEXT]),) if field or field_message else ()
    kind = classify(None, "", message, error_code=code, has_field_errors=bool(field_errors))
    problem = MailchimpProblem(kind, code or "Member Error", message, None, field_errors, error_code=code)
    return problem.redacted()


def problem_from_segment_error(entry: Mapping[str, Any]) -> MailchimpProblem:
    """A problem from one `errors[]` entry of a bulk static-segment change (shared by its addresses).

    The only documented reason an address is refused there is that it is not on the list (unknown
    or archived), so anything `classify` cannot place otherwise is NOT_FOUND.
    """
    message = str(entry.get("error") or "")[:_MAX_TEXT]
    kind = classify(None, "", message)
    if kind is ErrorKind.UNEXPECTED:
        kind = ErrorKind.NOT_FOUND
    return MailchimpProblem(kind, "Segment Member Error", message, None).redacted()


def retryable_problem(reason: str, status: int | None = None, detail: str = "") -> MailchimpProblem:
    """A transient failure that outlasted the retry policy (no usable body)."""
    return MailchimpProblem(ErrorKind.RETRYABLE, reason, detail, status)
