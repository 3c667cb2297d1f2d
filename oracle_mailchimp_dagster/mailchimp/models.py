"""What the sync sends to Mailchimp and what it gets back, typed."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, model_validator

from oracle_mailchimp_dagster.mailchimp.errors import MailchimpProblem
from oracle_mailchimp_dagster.sync.model import ListField

MemberStatus = Literal["subscribed", "unsubscribed", "cleaned", "pending", "transactional"]
NewMemberStatus = Literal["subscribed", "unsubscribed", "pending", "transactional"]


class AddressValue(BaseModel):
    """An ADDRESS merge value: all or nothing (addr1, city, state and zip are required)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    addr1: str = Field(min_length=1)
    addr2: str = ""
    city: str = Field(min_length=1)
    state: str = Field(min_length=1)
    zip: str = Field(min_length=1)
    country: str = ""


# Never null, never boolean: Mailchimp answers "Data did not match any of the schemas" to both.
MergeValue = StrictStr | StrictInt | StrictFloat | AddressValue


def _resubscribe_guard(status: str | None, confirmed: bool) -> None:
    if status == "subscribed" and not confirmed:
        raise ValueError(
            "status 'subscribed' would resubscribe an existing member; send status_if_new only, or set "
            "confirm_resubscribe=True when there is fresh, recorded consent"
        )


class MemberUpsert(BaseModel):
    """One member to upsert. `status_if_new` applies only on creation; existing members keep theirs.

    `status` changes an existing member's status (e.g. 'unsubscribed'); 'subscribed' is refused
    unless `confirm_resubscribe` is set, so a sync can never resubscribe anyone by accident.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    email_address: str = Field(min_length=3, max_length=320)
    status_if_new: NewMemberStatus
    status: MemberStatus | None = None
    merge_fields: dict[str, MergeValue] = Field(default_factory=dict)
    email_type: Literal["html", "text"] | None = None
    language: str | None = None
    vip: bool | None = None
    confirm_resubscribe: bool = False

    @model_validator(mode="after")
    def _no_accidental_resubscribe(self) -> "MemberUpsert":
        _resubscribe_guard(self.status, self.confirm_resubscribe)
        return self

    def wire(self) -> dict[str, Any]:
        """The JSON object Mailchimp expects (absent fields are not sent)."""
        body: dict[str, Any] = {"email_address": self.email_address, "status_if_new": self.status_if_new}
        if self.status is not None:
            body["status"] = self.status
        if self.merge_fields:
            body["merge_fields"] = {
                tag: value.model_dump() if isinstance(value, AddressValue) else value
                for tag, value in self.merge_fields.items()
            }
        for name in ("email_type", "language", "vip"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body


class MemberChanges(BaseModel):
    """A PATCH of an existing member: a new address, a status change, merge values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email_address: str | None = Field(default=None, min_length=3, max_length=320)
    status: Literal["subscribed", "unsubscribed", "cleaned", "pending"] | None = None
    merge_fields: dict[str, MergeValue] = Field(default_factory=dict)
    confirm_resubscribe: bool = False

    @model_validator(mode="after")
    def _checks(self) -> "MemberChanges":
        _resubscribe_guard(self.status, self.confirm_resubscribe)
        if self.email_address is None and self.status is None and not self.merge_fields:
            raise ValueError("a member change must change something")
        return self

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.email_address is not None:
            body["email_address"] = self.email_address
        if self.status is not None:
            body["status"] = self.status
        if self.merge_fields:
            body["merge_fields"] = {
                tag: value.model_dump() if isinstance(value, AddressValue) else value
                for tag, value in self.merge_fields.items()
            }
        return body


@dataclass(frozen=True, slots=True)
class TagChange:
    """Tags to add to and remove from one member; names compare case-insensitively, as in Mailchimp."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in (*self.add, *self.remove):
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"a tag name must be a non-empty string, got {name!r}")
        both = {tag_key(name) for name in self.add} & {tag_key(name) for name in self.remove}
        if both:
            raise ValueError(f"tags both added and removed: {', '.join(sorted(both))}")


def tag_key(name: str) -> str:
    """How Mailchimp tells tag (static segment) names apart: trimmed, case-insensitive."""
    return name.strip().lower()


BatchResult = Literal["created", "updated", "error"]


@dataclass(frozen=True, slots=True)
class MemberOutcome:
    """What happened to one member of a batch upsert, matched back by lower-cased email."""

    email_address: str
    result: BatchResult
    member_id: str | None = None
    status: str | None = None
    problem: MailchimpProblem | None = None

    @property
    def ok(self) -> bool:
        return self.result != "error"


class ListMember(BaseModel):
    """A member as Mailchimp holds it after a single-member write, or as listed for audience events."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    email_address: str
    status: str
    last_changed: datetime | None = None
    unsubscribe_reason: str | None = None


class AudienceList(BaseModel):
    """The parts of a list (audience) the connector checks."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    name: str
    member_count: int | None = None


class MergeField(BaseModel):
    """A merge field of a list, as read from Mailchimp."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    merge_id: int
    tag: str
    name: str
    type: str
    required: bool = False
    default_value: str = ""
    options: dict[str, Any] = Field(default_factory=dict)

    def to_list_field(self) -> ListField:
        """This field as the planner reads it: type, whether required, date format, choices."""
        options = self.options or {}
        return ListField(
            tag=self.tag,
            type=self.type,
            required=self.required,
            date_format=str(options.get("date_format") or ""),
            choices=tuple(str(c) for c in options.get("choices") or ()),
        )


def list_fields_by_tag(merge_fields: Iterable[MergeField]) -> dict[str, ListField]:
    """An audience's merge fields as the planner reads them, by tag."""
    return {field.tag: field.to_list_field() for field in merge_fields}


class MergeFieldSpec(BaseModel):
    """A merge field to create. Tags are upper-case letters, digits and underscores, at most 10."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    type: Literal[
        "text",
        "number",
        "address",
        "phone",
        "date",
        "url",
        "imageurl",
        "radio",
        "dropdown",
        "birthday",
        "zip",
    ]
    tag: str | None = Field(default=None, pattern=r"^[A-Z0-9_]{1,10}$")
    required: bool = False
    default_value: str | None = None
    public: bool | None = None
    options: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)
