"""What happened to each record: the ledger's outcome vocabulary and how a failure is filed."""

from dataclasses import dataclass
from enum import StrEnum

from oracle_mailchimp_dagster.sync.model import Action, PlannedAction


class Outcome(StrEnum):
    """One record's result in a run, as the ledger records it."""

    CREATED = "created"
    UPDATED = "updated"
    EMAIL_CHANGED = "email_changed"
    UNSUBSCRIBED = "unsubscribed"
    ARCHIVED = "archived"
    DELETED = "deleted"
    TAGGED = "tagged"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    REJECTED = "rejected"
    PLANNED = "planned"  # dry run: nothing was sent
    FAILED_INVALID = "failed_invalid"
    FAILED_COMPLIANCE = "failed_compliance"
    FAILED_CONFLICT = "failed_conflict"
    FAILED_RETRYABLE = "failed_retryable"
    FAILED = "failed"
    DEAD_LETTER = "dead_letter"


SUCCEEDED = frozenset(
    {
        Outcome.CREATED,
        Outcome.UPDATED,
        Outcome.EMAIL_CHANGED,
        Outcome.UNSUBSCRIBED,
        Outcome.ARCHIVED,
        Outcome.DELETED,
        Outcome.TAGGED,
    }
)
SETTLED = SUCCEEDED | {Outcome.UNCHANGED, Outcome.SKIPPED}
# Mailchimp refused the record for good: the same data would be refused again.
REFUSED = frozenset({Outcome.FAILED_INVALID, Outcome.FAILED_COMPLIANCE})
FAILED = frozenset(
    {
        Outcome.FAILED_INVALID,
        Outcome.FAILED_COMPLIANCE,
        Outcome.FAILED_CONFLICT,
        Outcome.FAILED_RETRYABLE,
        Outcome.FAILED,
        Outcome.DEAD_LETTER,
    }
)

_DONE = {
    Action.UNSUBSCRIBE: Outcome.UNSUBSCRIBED,
    Action.ARCHIVE: Outcome.ARCHIVED,
    Action.DELETE: Outcome.DELETED,
    Action.RETAG: Outcome.TAGGED,
    Action.EMAIL_CHANGE: Outcome.EMAIL_CHANGED,
}
_NOT_SENT = {
    Action.SKIP_UNCHANGED: Outcome.UNCHANGED,
    Action.SKIP: Outcome.SKIPPED,
    Action.REJECT_INVALID: Outcome.REJECTED,
}


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """The result of one planned action: outcome, and Mailchimp's answer when there was one."""

    action: PlannedAction
    outcome: Outcome
    http_status: int | None = None
    title: str | None = None
    detail: str | None = None
    member_status: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome in SUCCEEDED

    @property
    def retryable(self) -> bool:
        return self.outcome is Outcome.FAILED_RETRYABLE


def not_sent(action: PlannedAction, dry_run: bool = False) -> RecordOutcome:
    """The outcome of an action that needs no Mailchimp call (or of any action in a dry run)."""
    if action.action in _NOT_SENT:
        detail = action.reason if action.action is not Action.SKIP_UNCHANGED else None
        return RecordOutcome(action, _NOT_SENT[action.action], detail=detail)
    assert dry_run, f"{action.action} needs a Mailchimp call"
    return RecordOutcome(action, Outcome.PLANNED, detail=action.reason)


def done(action: PlannedAction, created: bool = False, member_status: str | None = None) -> RecordOutcome:
    """A successful write."""
    if action.action is Action.UPSERT:
        outcome = Outcome.CREATED if created else Outcome.UPDATED
    else:
        outcome = _DONE[action.action]
    return RecordOutcome(action, outcome, member_status=member_status)
