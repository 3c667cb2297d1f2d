"""The error taxonomy applied to the bodies Mailchimp really sends (reference §3-§6, §8)."""

import orjson
import pytest

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.mailchimp import (
    ErrorKind,
    FieldError,
    MailchimpComplianceError,
    MailchimpConfigurationError,
    MailchimpError,
    MailchimpProblem,
    MailchimpRecordError,
    MailchimpRetryableError,
    classify,
)
from oracle_mailchimp_dagster.mailchimp.errors import error_for
from oracle_mailchimp_dagster.mailchimp.problems import problem_from_batch_error, problem_from_body

COMPLIANCE_TEXT = (
    "x is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed."
)
FORGOTTEN_TEXT = (
    "x was permanently deleted and cannot be re-imported. "
    "The contact must re-subscribe to get back on the list."
)
CLEANED_TEXT = (
    'This member\'s status is "cleaned." '
    'You can only update email addresses for members with a status of "subscribed."'
)
EXISTS_TEXT = (
    "x@acme.io is already a list member, do you want to update? "
    "please provide update_existing:true in the request body"
)
SCHEMA_TEXT = (
    "The resource submitted could not be validated. For field-specific details, see the 'errors' array."
)


def problem(status: int, title: str, detail: str, **extra: object) -> bytes:
    return orjson.dumps(
        {
            "type": "https://mailchimp.com/developer/marketing/docs/errors/",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": "8cf2c011-a212",
            **extra,
        }
    )


CASES = [
    (
        400,
        "Member Exists",
        "x@acme.io is already a list member. Use PUT to insert or update list members.",
        ErrorKind.CONFLICT,
    ),
    (
        400,
        "Invalid Resource",
        "fooboo@example.com looks fake or invalid, please enter a real email address.",
        ErrorKind.INVALID_DATA,
    ),
    (400, "Invalid Resource", "Please provide a valid email address.", ErrorKind.INVALID_DATA),
    (
        400,
        "Invalid Resource",
        "x has signed up to a lot of lists very recently; we're not allowing more signups for now",
        ErrorKind.RETRYABLE,
    ),
    (
        400,
        "Member In Compliance State",
        COMPLIANCE_TEXT,
        ErrorKind.COMPLIANCE,
    ),
    (
        400,
        "Forgotten Email Not Subscribed",
        FORGOTTEN_TEXT,
        ErrorKind.COMPLIANCE,
    ),
    (
        400,
        "Invalid Resource",
        '"new@x.com" is already in this list with a status of "subscribed".',
        ErrorKind.CONFLICT,
    ),
    (
        400,
        "Invalid Resource",
        CLEANED_TEXT,
        ErrorKind.COMPLIANCE,
    ),
    (
        405,
        "Method Not Allowed",
        "This list member cannot be removed.  Please contact support.",
        ErrorKind.COMPLIANCE,
    ),
    (
        401,
        "API Key Invalid",
        "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
        ErrorKind.CONFIGURATION,
    ),
    (
        403,
        "Wrong Datacenter",
        "The API key provided is linked to a different data center.",
        ErrorKind.CONFIGURATION,
    ),
    (
        429,
        "Too Many Requests",
        "You have exceeded the limit of 10 simultaneous connections.",
        ErrorKind.RETRYABLE,
    ),
    (500, "Internal Server Error", "An unexpected internal error has occurred.", ErrorKind.RETRYABLE),
    (503, "Compliance Related", "This method has been disabled.", ErrorKind.CONFIGURATION),
    (400, "JSON Parse Error", "We encountered an unspecified JSON parsing error.", ErrorKind.UNEXPECTED),
]


@pytest.mark.parametrize(("status", "title", "detail", "kind"), CASES)
def test_whole_response_problems_are_classified(
    status: int, title: str, detail: str, kind: ErrorKind
) -> None:
    parsed = problem_from_body(
        status, "application/problem+json; charset=utf-8", problem(status, title, detail), scope="member"
    )
    assert parsed.kind is kind
    assert parsed.title == title and parsed.status == status
    assert parsed.request_id == "8cf2c011-a212"


def test_merge_field_errors_keep_field_and_message() -> None:
    body = problem(
        400,
        "Invalid Resource",
        "Your merge fields were invalid.",
        errors=[{"field": "ADDRESS", "message": "Please enter a complete address"}],
    )
    parsed = problem_from_body(400, "application/problem+json", body, scope="member")
    assert parsed.kind is ErrorKind.INVALID_DATA
    assert parsed.field_errors == (FieldError("ADDRESS", "Please enter a complete address"),)
    assert "ADDRESS: Please enter a complete address" in str(error_for(parsed))


def test_not_found_depends_on_what_was_addressed() -> None:
    body = problem(404, "Resource Not Found", "The requested resource could not be found.")
    assert (
        problem_from_body(404, "application/problem+json", body, scope="member").kind is ErrorKind.NOT_FOUND
    )
    assert (
        problem_from_body(404, "application/problem+json", body, scope="list").kind is ErrorKind.CONFIGURATION
    )


def test_html_and_empty_error_bodies_are_tolerated() -> None:
    html = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>"
    parsed = problem_from_body(502, "text/html", html, scope="list")
    assert parsed.kind is ErrorKind.RETRYABLE and parsed.title == "HTML error page"
    assert problem_from_body(504, "", b"", scope="member").kind is ErrorKind.RETRYABLE
    assert problem_from_body(400, "text/plain", b"nope", scope="member").kind is ErrorKind.UNEXPECTED


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        (
            {
                "email_address": "f@example.com",
                "error": "f@example.com looks fake or invalid, please enter a real email address.",
                "error_code": "ERROR_GENERIC",
                "field": "",
                "field_message": "",
            },
            ErrorKind.INVALID_DATA,
        ),
        (
            {
                "email_address": "x@acme.io",
                "error": EXISTS_TEXT,
                "error_code": "ERROR_CONTACT_EXISTS",
            },
            ErrorKind.CONFLICT,
        ),
        (
            {
                "email_address": "x@acme.io",
                "error": COMPLIANCE_TEXT,
                "error_code": "ERROR_GENERIC",
            },
            ErrorKind.COMPLIANCE,
        ),
        (
            {
                "email_address": "x@acme.io",
                "error": SCHEMA_TEXT,
                "error_code": "ERROR_GENERIC",
                "field": "LNAME",
                "field_message": "Please enter a value",
            },
            ErrorKind.INVALID_DATA,
        ),
        (
            {"email_address": "x@acme.io", "error": "Something new", "error_code": "ERROR_GENERIC"},
            ErrorKind.UNEXPECTED,
        ),
    ],
)
def test_batch_member_errors_are_classified(entry: dict[str, str], kind: ErrorKind) -> None:
    parsed = problem_from_batch_error(entry)
    assert parsed.kind is kind and parsed.status is None
    if entry.get("field"):
        assert parsed.field_errors == (FieldError(entry["field"], entry["field_message"]),)


def test_error_classes_follow_kind() -> None:
    assert isinstance(
        error_for(
            problem_from_body(
                429, "application/problem+json", problem(429, "Too Many Requests", ""), scope="list"
            )
        ),
        MailchimpRetryableError,
    )
    assert isinstance(
        error_for(
            problem_from_body(
                401, "application/problem+json", problem(401, "API Key Invalid", ""), scope="account"
            )
        ),
        MailchimpConfigurationError,
    )
    assert isinstance(
        error_for(
            problem_from_body(
                400,
                "application/problem+json",
                problem(400, "Member In Compliance State", ""),
                scope="member",
            )
        ),
        MailchimpComplianceError,
    )
    assert classify(None, "", "", error_code="ERROR_CONTACT_EXISTS") is ErrorKind.CONFLICT


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_only_configuration_stops_the_run_every_other_kind_is_a_record_error(kind: ErrorKind) -> None:
    error = error_for(MailchimpProblem(kind, "Title", "detail", 400))
    assert isinstance(error, MailchimpError) and error.kind is kind
    run_level = kind is ErrorKind.CONFIGURATION
    assert isinstance(error, MailchimpConfigurationError) is run_level
    assert isinstance(error, UserError) is run_level
    assert isinstance(error, MailchimpRecordError) is not run_level
