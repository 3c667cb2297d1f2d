"""The tenant's sync rules as the planner sees them: the resolved mapping, tag sources and policies."""

from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Derived sources a mapping may name besides plain customer attributes.
CONTACT_FIRST_NAME = "@contact_first_name"
CONTACT_LAST_NAME = "@contact_last_name"
BILLING_ADDRESS = "@billing_address"
DERIVED_SOURCES = frozenset({CONTACT_FIRST_NAME, CONTACT_LAST_NAME, BILLING_ADDRESS})


class StatusIfNew(StrEnum):
    SUBSCRIBED = "subscribed"
    PENDING = "pending"
    TRANSACTIONAL = "transactional"


class InactiveAction(StrEnum):
    """What happens to the member of a customer that Oracle inactivated."""

    UNSUBSCRIBE = "unsubscribe"
    ARCHIVE = "archive"
    DELETE = "delete"
    TAG = "tag"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class MergeFieldSource:
    """Where one merge field's value comes from: a `Customer` field or a derived source.

    `label` is the source as the tenant wrote it (an Oracle attribute), for messages.
    """

    source: str
    label: str


@dataclass(frozen=True, slots=True)
class TagSource:
    """One managed tag per customer: `prefix + (values[v] or v)` of the `Customer` field `source`."""

    source: str
    prefix: str = ""
    values: tuple[tuple[str, str], ...] = ()

    def tag(self, value: str) -> str:
        return self.prefix + dict(self.values).get(value, value)


@dataclass(frozen=True, slots=True)
class MemberMapping:
    """The tenant's mapping, resolved to `Customer` fields: merge tag -> source, and tag sources."""

    merge_fields: dict[str, MergeFieldSource] = field(default_factory=dict)
    tags: tuple[TagSource, ...] = ()


class SyncPolicy(BaseModel):
    """How new and inactive customers are treated, and how much one run may remove."""

    model_config = ConfigDict(frozen=True)

    status_if_new: StatusIfNew = StatusIfNew.SUBSCRIBED
    inactive_action: InactiveAction = InactiveAction.UNSUBSCRIBE
    inactive_tag: str = "inactive-customer"
    max_removals: int | None = Field(default=1000, ge=0)
    max_removal_share: float | None = Field(default=0.2, ge=0.0, le=1.0)
    removal_share_floor: int = Field(default=10, ge=0)
    text_max_length: int = Field(default=255, ge=1)

    @model_validator(mode="after")
    def _tag_needed(self) -> "SyncPolicy":
        if self.inactive_action is InactiveAction.TAG and not self.inactive_tag.strip():
            raise ValueError("inactive_action 'tag' needs a non-empty inactive_tag")
        return self
