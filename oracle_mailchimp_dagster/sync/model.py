"""Value objects the planner reads and writes."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """The one thing a run does for a record."""

    UPSERT = "upsert"
    EMAIL_CHANGE = "email_change"
    UNSUBSCRIBE = "unsubscribe"
    ARCHIVE = "archive"
    DELETE = "delete"
    RETAG = "retag"
    SKIP_UNCHANGED = "skip_unchanged"
    SKIP = "skip"
    REJECT_INVALID = "reject_invalid"
    # A reconciliation re-sends what drifted in Mailchimp (fields, managed tags, a missing member).
    REPAIR = "repair"


REMOVALS = frozenset({Action.UNSUBSCRIBE, Action.ARCHIVE, Action.DELETE})
WRITES = frozenset(
    {Action.UPSERT, Action.EMAIL_CHANGE, Action.UNSUBSCRIBE, Action.ARCHIVE, Action.DELETE, Action.RETAG}
)


@dataclass(frozen=True, slots=True)
class ListField:
    """A merge field of the Mailchimp list, as read at the start of a run."""

    tag: str
    type: str
    required: bool = False
    date_format: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MemberState:
    """What the connector last made of one customer in Mailchimp (a `member_state` row).

    `last_update` is the customer's Oracle last-update time when it was synced; `last_synced_at` and
    `last_run_id` say when and by which run it was stored (None until it is). `merge_fields` are the
    values last sent (what a reconciliation expects to find; None for state stored before they were
    kept, or for a customer that sent no payload of its own).
    """

    customer_key: str
    email: str | None
    subscriber_hash: str | None
    payload_hash: str | None
    known_status: str | None
    managed_tags: frozenset[str] = frozenset()
    active: bool = True
    last_update: datetime | None = None
    last_synced_at: datetime | None = field(default=None, compare=False)
    last_run_id: str | None = field(default=None, compare=False)
    merge_fields: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class MemberPayload:
    """The member a customer should be: normalised email, converted merge fields, managed tags."""

    email: str
    merge_fields: dict[str, Any]
    tags: frozenset[str]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One record's planned action, with everything the executor and the ledger need."""

    customer_key: str
    action: Action
    reason: str
    party_id: int | None = None
    last_update: datetime | None = None
    active: bool = True
    email: str | None = None
    subscriber_hash: str | None = None
    previous_email: str | None = None
    release_email: str | None = None
    merge_fields: dict[str, Any] = field(default_factory=dict)
    status_if_new: str | None = None
    tags: frozenset[str] = frozenset()
    tags_add: frozenset[str] = frozenset()
    tags_remove: frozenset[str] = frozenset()
    payload_hash: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        return self.action in WRITES
