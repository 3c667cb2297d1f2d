"""File a Mailchimp failure under the ledger's outcome vocabulary."""

from oracle_mailchimp_dagster.mailchimp import ErrorKind, MailchimpProblem
from oracle_mailchimp_dagster.sync.model import PlannedAction
from oracle_mailchimp_dagster.sync.outcomes import Outcome, RecordOutcome

_BY_KIND = {
    ErrorKind.RETRYABLE: Outcome.FAILED_RETRYABLE,
    ErrorKind.INVALID_DATA: Outcome.FAILED_INVALID,
    ErrorKind.COMPLIANCE: Outcome.FAILED_COMPLIANCE,
    ErrorKind.CONFLICT: Outcome.FAILED_CONFLICT,
    ErrorKind.NOT_FOUND: Outcome.FAILED,
    ErrorKind.UNEXPECTED: Outcome.FAILED,
    # Never filed in practice: configuration errors raise (MailchimpConfigurationError) and stop the
    # run. Listed so the table covers every kind.
    ErrorKind.CONFIGURATION: Outcome.FAILED,
}


def failed(action: PlannedAction, problem: MailchimpProblem, context: str = "") -> RecordOutcome:
    """A failed write, with Mailchimp's status, title and detail (and field errors) for the ledger."""
    detail = problem.describe() if problem.field_errors else problem.detail
    if context:
        detail = f"{context}: {detail}"
    return RecordOutcome(
        action, _BY_KIND[problem.kind], http_status=problem.status, title=problem.title, detail=detail
    )
