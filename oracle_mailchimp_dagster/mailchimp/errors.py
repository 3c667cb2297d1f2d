"""One error taxonomy for every Mailchimp operation: what went wrong and what the sync should do.

`classify` is pure: it reads a status, Mailchimp's title and detail (or a batch member's error text
and code) and returns an `ErrorKind`. Whole-request failures raise the exception class of the kind;
batch members carry a `MailchimpProblem` in their outcome instead.

Two families of exceptions, so callers choose by type: `MailchimpConfigurationError` stops the run
(nothing a later record can fix), every `MailchimpRecordError` is filed against the record or batch
at hand and the run goes on. Code that files record failures catches `MailchimpRecordError` only.
"""

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http.redaction import Redact, redact_credentials

Scope = Literal["account", "list", "member"]


class ErrorKind(StrEnum):
    """What a failure means for the record or the run."""

    RETRYABLE = "retryable"  # 429, 5xx, HTML pages, timeouts, resets, signup velocity: try again later
    INVALID_DATA = "invalid_data"  # bad or fake email, merge field errors: fix the record
    COMPLIANCE = "compliance"  # unsubscribed by the contact, cleaned, permanently deleted: never retry
    CONFLICT = "conflict"  # member exists, new email already taken: a decision is needed
    CONFIGURATION = "configuration"  # auth, wrong data center, wrong list, missing merge field: stop the run
    NOT_FOUND = "not_found"  # the member does not exist (archive/tag of someone unknown)
    UNEXPECTED = "unexpected"  # anything else; recorded as a permanent failure


@dataclass(frozen=True)
class FieldError:
    """A merge-field (or schema) error: the field as Mailchimp names it, and its message."""

    field: str
    message: str


@dataclass(frozen=True)
class MailchimpProblem:
    """A Mailchimp error as data: kind, HTTP status (None for a batch member), title, detail."""

    kind: ErrorKind
    title: str
    detail: str
    status: int | None = None
    field_errors: tuple[FieldError, ...] = ()
    error_code: str | None = None
    request_id: str | None = None

    @property
    def retryable(self) -> bool:
        return self.kind is ErrorKind.RETRYABLE

    def redacted(self, redact: Redact = redact_credentials) -> "MailchimpProblem":
        """This problem with every text a server wrote (title, detail, field messages...) redacted."""
        return replace(
            self,
            title=redact(self.title),
            detail=redact(self.detail),
            field_errors=tuple(FieldError(redact(e.field), redact(e.message)) for e in self.field_errors),
            error_code=redact(self.error_code) if self.error_code else self.error_code,
            request_id=redact(self.request_id) if self.request_id else self.request_id,
        )

    def describe(self) -> str:
        head = f"{self.status} {self.title}" if self.status else self.title
        text = f"{head}: {self.detail}" if self.detail else head
        if self.field_errors:
            text += " (" + "; ".join(f"{e.field}: {e.message}" for e in self.field_errors) + ")"
        return text


class MailchimpError(Exception):
    """A Mailchimp call failed; `problem` says how, `kind` says what to do about it.

    The problem is redacted again here (credential-shaped text), whoever built it: its text came
    from a server and goes to logs, run metadata and the event log.
    """

    def __init__(self, problem: MailchimpProblem, context: str = "") -> None:
        problem = problem.redacted()
        prefix = f"Mailchimp {redact_credentials(context)}: " if context else "Mailchimp: "
        super().__init__(prefix + problem.describe())
        self.problem = problem

    @property
    def kind(self) -> ErrorKind:
        return self.problem.kind


class MailchimpConfigurationError(MailchimpError, UserError):
    """Run-level: credentials, data center, list or merge fields are wrong; the run stops for the user."""


class MailchimpRecordError(MailchimpError):
    """Record-level: this record (or batch) failed; the run files the problem and goes on."""


class MailchimpRetryableError(MailchimpRecordError):
    """Transient failures outlasted the retry policy (or the server asked to come back later)."""


class MailchimpInvalidDataError(MailchimpRecordError):
    """The record's data was refused (email, merge fields)."""


class MailchimpComplianceError(MailchimpRecordError):
    """The member's state forbids the change (self-unsubscribed, cleaned, permanently deleted)."""


class MailchimpConflictError(MailchimpRecordError):
    """The address already exists where a new one was expected."""


class MailchimpNotFoundError(MailchimpRecordError):
    """The member does not exist."""


class MailchimpUnexpectedError(MailchimpRecordError):
    """A failure outside the taxonomy."""


_CLASSES: dict[ErrorKind, type[MailchimpError]] = {
    ErrorKind.RETRYABLE: MailchimpRetryableError,
    ErrorKind.INVALID_DATA: MailchimpInvalidDataError,
    ErrorKind.COMPLIANCE: MailchimpComplianceError,
    ErrorKind.CONFLICT: MailchimpConflictError,
    ErrorKind.CONFIGURATION: MailchimpConfigurationError,
    ErrorKind.NOT_FOUND: MailchimpNotFoundError,
    ErrorKind.UNEXPECTED: MailchimpUnexpectedError,
}


def error_for(problem: MailchimpProblem, context: str = "") -> MailchimpError:
    """The exception of the problem's kind: a configuration error or a record error."""
    return _CLASSES[problem.kind](problem, context)


def configuration_error(message: str, status: int | None = None) -> MailchimpConfigurationError:
    """A configuration problem found before any call, or in an answer (`status`: 401, 404...)."""
    return MailchimpConfigurationError(
        MailchimpProblem(ErrorKind.CONFIGURATION, "Configuration", message, status)
    )


_COMPLIANCE_MARKERS = (
    "compliance state",
    "was permanently deleted",
    "forgotten email",
    'status is "cleaned."',
    "cannot be removed",
)
_CONFLICT_MARKERS = ("is already a list member", "is already in this list", "member exists", "already exists")
_INVALID_MARKERS = (
    "looks fake or invalid",
    "provide a valid email",
    "merge fields were invalid",
    "could not be validated",
    "did not match any of the schemas",
    "schema describes",
    "required fields were not provided",
    "please enter",
)
_LATER_MARKERS = ("signed up to a lot of lists very recently",)


def classify(
    status: int | None,
    title: str = "",
    detail: str = "",
    *,
    scope: Scope = "member",
    error_code: str | None = None,
    has_field_errors: bool = False,
) -> ErrorKind:
    """The kind of a Mailchimp failure, from its status and wording (whole request or batch member)."""
    text = f"{title}\n{detail}".lower()
    if status is not None and (status in (408, 429) or status >= 500):
        return ErrorKind.CONFIGURATION if "compliance related" in text else ErrorKind.RETRYABLE
    if status in (401, 403):
        return ErrorKind.CONFIGURATION
    if any(marker in text for marker in _LATER_MARKERS):
        return ErrorKind.RETRYABLE
    if any(marker in text for marker in _COMPLIANCE_MARKERS):
        return ErrorKind.COMPLIANCE
    if error_code == "ERROR_CONTACT_EXISTS" or any(marker in text for marker in _CONFLICT_MARKERS):
        return ErrorKind.CONFLICT
    if has_field_errors or any(marker in text for marker in _INVALID_MARKERS):
        return ErrorKind.INVALID_DATA
    if status == 404:
        return ErrorKind.NOT_FOUND if scope == "member" else ErrorKind.CONFIGURATION
    if status == 400 and "invalid resource" in text:
        return ErrorKind.INVALID_DATA
    return ErrorKind.UNEXPECTED


_EMAIL_CHANGE_REFUSED = re.compile(
    r'status is "(?P<status>[a-z]+)\.?"\.?\s+'
    r"You can only update email addresses for members with a status of",
    re.IGNORECASE,
)


def email_change_refused_status(problem: MailchimpProblem) -> str | None:
    """The member's status when Mailchimp refused to change its address because of it, else None.

    Mailchimp changes addresses only of subscribed members; for the others it answers
    `This member's status is "transactional." You can only update email addresses for members with
    a status of "subscribed."`.
    """
    match = _EMAIL_CHANGE_REFUSED.search(problem.detail)
    return match.group("status").lower() if match else None
