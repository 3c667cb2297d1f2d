"""Mailchimp's error vocabulary: problem+json bodies with the exact titles and wording seen in the wild."""

import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse

ERROR_TYPE = "https://mailchimp.com/developer/marketing/docs/errors/"
PROBLEM_MEDIA_TYPE = "application/problem+json; charset=utf-8"

INVALID_RESOURCE = "Invalid Resource"
SCHEMA_DETAIL = (
    "The resource submitted could not be validated. For field-specific details, see the 'errors' array."
)
MERGE_DETAIL = "Your merge fields were invalid."
NOT_FOUND_DETAIL = "The requested resource could not be found."
TOO_MANY_DETAIL = "You have exceeded the limit of 10 simultaneous connections."

ERROR_CONTACT_EXISTS = "ERROR_CONTACT_EXISTS"
ERROR_GENERIC = "ERROR_GENERIC"


@dataclass(frozen=True)
class FieldError:
    """One entry of a problem's `errors` array."""

    field: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class MailchimpProblem(Exception):
    """An API error as Mailchimp reports it; raised by the domain code, rendered by the API layer."""

    status: int
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    error_code: str = ERROR_GENERIC
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"

    def body(self, instance: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": ERROR_TYPE,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors:
            body["errors"] = [e.as_json() for e in self.errors]
        return body


def new_request_id() -> str:
    return str(uuid.uuid4())


def problem_response(problem: MailchimpProblem, request_id: str, dc: str = "us21") -> Response:
    """The problem+json response, with `X-Request-Id` equal to `instance` and the describedBy link."""
    headers = {
        "X-Request-Id": request_id,
        "Link": f'<https://{dc}.api.mailchimp.com/schema/3.0/ProblemDetailDocument.json>; rel="describedBy"',
        **problem.headers,
    }
    return FastJSONResponse(
        problem.body(request_id), status_code=problem.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


# --- constructors for every problem the simulator raises ---------------------------------------------


def api_key_missing() -> MailchimpProblem:
    return MailchimpProblem(401, "API Key Missing", "Your request did not include an API key.")


def api_key_invalid(detail: str | None = None) -> MailchimpProblem:
    return MailchimpProblem(
        401,
        "API Key Invalid",
        detail or "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
    )


def wrong_datacenter(status: int) -> MailchimpProblem:
    if status == 401:
        return api_key_invalid()
    return MailchimpProblem(
        403, "Wrong Datacenter", "The API key provided is linked to a different data center."
    )


def too_many_requests(retry_after_s: int | None = None) -> MailchimpProblem:
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else {}
    return MailchimpProblem(429, "Too Many Requests", TOO_MANY_DETAIL, headers=headers)


def resource_not_found() -> MailchimpProblem:
    return MailchimpProblem(404, "Resource Not Found", NOT_FOUND_DETAIL)


def method_not_allowed(allow: str = "") -> MailchimpProblem:
    return MailchimpProblem(
        405,
        "Method Not Allowed",
        "The requested method and resource are not compatible. See the Allow header for this "
        "resource's available methods.",
        headers={"Allow": allow} if allow else {},
    )


def member_cannot_be_removed() -> MailchimpProblem:
    return MailchimpProblem(
        405, "Method Not Allowed", "This list member cannot be removed.  Please contact support."
    )


def json_parse_error() -> MailchimpProblem:
    return MailchimpProblem(400, "JSON Parse Error", "We encountered an unspecified JSON parsing error.")


def schema_errors(errors: list[FieldError]) -> MailchimpProblem:
    return MailchimpProblem(400, INVALID_RESOURCE, SCHEMA_DETAIL, errors=errors)


def merge_field_errors(errors: list[FieldError]) -> MailchimpProblem:
    return MailchimpProblem(400, INVALID_RESOURCE, MERGE_DETAIL, errors=errors)


def invalid_resource(detail: str) -> MailchimpProblem:
    return MailchimpProblem(400, INVALID_RESOURCE, detail)


def invalid_email() -> MailchimpProblem:
    return invalid_resource("Please provide a valid email address.")


def fake_email(email: str) -> MailchimpProblem:
    return invalid_resource(f"{email} looks fake or invalid, please enter a real email address.")


def signup_velocity(email: str) -> MailchimpProblem:
    return invalid_resource(
        f"{email} has signed up to a lot of lists very recently; we're not allowing more signups for now"
    )


def member_exists(email: str) -> MailchimpProblem:
    return MailchimpProblem(
        400,
        "Member Exists",
        f"{email} is already a list member. Use PUT to insert or update list members.",
        error_code=ERROR_CONTACT_EXISTS,
    )


def contact_exists_in_batch(email: str) -> MailchimpProblem:
    return MailchimpProblem(
        400,
        "Member Exists",
        f"{email} is already a list member, do you want to update? please provide update_existing:true in "
        "the request body",
        error_code=ERROR_CONTACT_EXISTS,
    )


def duplicate_in_batch(email: str) -> MailchimpProblem:
    """Wording unconfirmed: Mailchimp documents only that `skip_duplicate_check=true` ignores duplicates."""
    return invalid_resource(f"{email} appears more than once in this request.")


def compliance_state(email: str) -> MailchimpProblem:
    return MailchimpProblem(
        400,
        "Member In Compliance State",
        f"{email} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be "
        "subscribed.",
    )


def forgotten_email(email: str) -> MailchimpProblem:
    return MailchimpProblem(
        400,
        "Forgotten Email Not Subscribed",
        f"{email} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get "
        "back on the list.",
    )


def email_taken(new_email: str, status: str) -> MailchimpProblem:
    return invalid_resource(f'"{new_email}" is already in this list with a status of "{status}".')


def email_change_not_allowed(status: str) -> MailchimpProblem:
    return invalid_resource(
        f'This member\'s status is "{status}." You can only update email addresses for members with a '
        'status of "subscribed."'
    )


def segment_name_taken() -> MailchimpProblem:
    """Wording [unconfirmed]: the web app's words for a duplicate tag; the API's text is not on record."""
    return invalid_resource("Sorry, that tag already exists.")


def segment_needs_emails_or_conditions() -> MailchimpProblem:
    """A create with neither `static_segment` nor `options` [obs MailChimp.Net#160]."""
    return invalid_resource('Must provide either an "options" field or a "static_segment" field')


def segment_emails_with_conditions() -> MailchimpProblem:
    """The spec: `static_segment` "cannot be provided with the `options` field" (wording [unconfirmed])."""
    return invalid_resource('The "static_segment" field cannot be provided with the "options" field.')


def saved_segments_unsupported() -> MailchimpProblem:
    """Not Mailchimp's answer but the sandbox's honest limit: it simulates static segments (tags) only."""
    return invalid_resource(
        "The Mailchimp sandbox simulates static segments (tags) only; saved segments with conditions "
        "(options) are not supported."
    )


def segment_batch_too_large(limit: int) -> MailchimpProblem:
    """[obs hitobito#1819]."""
    return invalid_resource(
        "Maximum allowed member items exceeded, please provide at most "
        f"{limit} items in members_to_add field or members_to_remove field"
    )


def internal_error() -> MailchimpProblem:
    return MailchimpProblem(
        500,
        "Internal Server Error",
        "An unexpected internal error has occurred. Please contact Support for more information.",
    )


def generic(status: int) -> MailchimpProblem:
    """A problem for a status with no specific Mailchimp wording (used by injected faults)."""
    if status == 500:
        return internal_error()
    if status == 429:
        return too_many_requests()
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return MailchimpProblem(status, phrase, f"The server answered {status} {phrase}.")
