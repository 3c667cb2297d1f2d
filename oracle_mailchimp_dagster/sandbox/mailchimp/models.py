"""The simulator's state: audiences, their merge fields, members, tags and tombstones (reference §9.3)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from oracle_mailchimp_dagster.sandbox.mailchimp.config import MergeFieldType
from oracle_mailchimp_dagster.sandbox.mailchimp.emails import subscriber_hash

MEMBER_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
ALL_STATUSES = (*MEMBER_STATUSES, "archived")

DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "text": {"size": 25},
    "address": {"default_country": 164},
    "phone": {"phone_format": "none"},
    "date": {"date_format": "MM/DD/YYYY"},
    "birthday": {"date_format": "MM/DD"},
    "radio": {"choices": []},
    "dropdown": {"choices": []},
    "url": {"size": 25},
    "imageurl": {"size": 25},
}


@dataclass
class MergeField:
    merge_id: int
    tag: str
    name: str
    type: MergeFieldType
    required: bool = False
    default_value: str = ""
    public: bool = True
    display_order: int = 2
    help_text: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class MemberTag:
    tag_id: int
    name: str
    date_added: datetime


@dataclass
class Member:
    """One contact of one audience; `id` is always md5(lower(email_address))."""

    id: str
    email_address: str
    unique_email_id: str
    contact_id: str
    web_id: int
    status: str
    seq: int
    last_changed: datetime
    prev_status_before_archive: str | None = None
    unsub_source: str | None = None
    unsubscribed_at: datetime | None = None
    merge_fields: dict[str, Any] = field(default_factory=dict)
    interests: dict[str, bool] = field(default_factory=dict)
    tags: dict[str, MemberTag] = field(default_factory=dict)
    vip: bool = False
    language: str = ""
    email_type: str = "html"
    ip_signup: str = ""
    timestamp_signup: str = ""
    ip_opt: str = ""
    timestamp_opt: str = ""
    member_rating: int = 2
    location: dict[str, Any] = field(default_factory=dict)
    source: str = "API - Generic"

    @property
    def effective_status(self) -> str:
        """The status compliance rules look at: for an archived contact, the one it had before."""
        if self.status == "archived":
            return self.prev_status_before_archive or "subscribed"
        return self.status


@dataclass
class AudienceList:
    """One audience (list) with everything Mailchimp keeps per list."""

    id: str
    web_id: int
    name: str
    date_created: datetime
    settings: dict[str, Any] = field(default_factory=dict)
    merge_fields: dict[int, MergeField] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    tombstones: set[str] = field(default_factory=set)
    tag_ids: dict[str, tuple[int, str]] = field(default_factory=dict)
    next_merge_id: int = 1
    next_tag_id: int = 1
    next_seq: int = 1

    def merge_field_by_tag(self, tag: str) -> MergeField | None:
        return next((f for f in self.merge_fields.values() if f.tag == tag), None)

    def find_member(self, ref: str) -> Member | None:
        """`ref` is a subscriber hash, an email address or a contact_id."""
        if "@" in ref:
            return self.members.get(subscriber_hash(ref))
        member = self.members.get(ref.lower())
        if member is not None:
            return member
        return next((m for m in self.members.values() if m.contact_id == ref), None)

    def tag_for(self, name: str) -> tuple[int, str]:
        """The list-wide tag id and canonical spelling for a tag name (tags match case-insensitively)."""
        key = name.lower()
        if key not in self.tag_ids:
            self.tag_ids[key] = (self.next_tag_id, name)
            self.next_tag_id += 1
        return self.tag_ids[key]
