"""The simulator's state: audiences, their merge fields, members, segments and tombstones (reference §9.3).

Tags ARE static segments in Mailchimp: one id space, one name per list. So a member stores only the ids of the
segments it belongs to (with the date it was added); names live on the segment, and a rename shows everywhere.
"""

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
class Segment:
    """A static segment of one audience, which the web app and the member endpoints call a tag."""

    id: int
    name: str
    created_at: datetime
    updated_at: datetime


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
    tags: dict[int, datetime] = field(default_factory=dict)  # segment id -> date added, in the order added
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
    segments: dict[int, Segment] = field(default_factory=dict)
    segment_ids_by_name: dict[str, int] = field(default_factory=dict)  # lower-cased name -> segment id
    next_merge_id: int = 1
    next_segment_id: int = 1
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

    def segment_named(self, name: str) -> Segment | None:
        """The segment with this name; names match case-insensitively and ignoring outer blanks."""
        segment_id = self.segment_ids_by_name.get(name.strip().lower())
        return None if segment_id is None else self.segments[segment_id]

    def segment_for(self, name: str, now: datetime) -> Segment:
        """The segment (tag) with this name, created on first use as tagging a member does in Mailchimp."""
        return self.segment_named(name) or self.add_segment(name, now)

    def add_segment(self, name: str, now: datetime) -> Segment:
        segment = Segment(self.next_segment_id, name.strip(), now, now)
        self.segments[segment.id] = segment
        self.segment_ids_by_name[segment.name.lower()] = segment.id
        self.next_segment_id += 1
        return segment

    def rename_segment(self, segment: Segment, name: str) -> None:
        del self.segment_ids_by_name[segment.name.lower()]
        segment.name = name.strip()
        self.segment_ids_by_name[segment.name.lower()] = segment.id

    def remove_segment(self, segment: Segment) -> None:
        """Forget the segment; members still holding its id must be untagged by the caller."""
        del self.segments[segment.id]
        del self.segment_ids_by_name[segment.name.lower()]

    def tag(self, member: Member, segment: Segment, now: datetime) -> bool:
        """Put the member in the segment (give it the tag); False if it already was."""
        if segment.id in member.tags:
            return False
        member.tags[segment.id] = now
        segment.updated_at = now
        return True

    def untag(self, member: Member, segment: Segment, now: datetime) -> bool:
        """Take the member out of the segment (remove the tag); False if it was not in it."""
        if member.tags.pop(segment.id, None) is None:
            return False
        segment.updated_at = now
        return True

    def tag_names(self, member: Member) -> list[str]:
        return [self.segments[segment_id].name for segment_id in member.tags]
