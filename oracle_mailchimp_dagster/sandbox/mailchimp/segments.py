"""Static segments, which Mailchimp's web app calls tags: create, rename, delete and bulk membership changes.

A member's tags are exactly the static segments it belongs to, so everything here goes through the same
`AudienceList.tag` / `untag` as `POST .../members/{hash}/tags`, and moves the member's `last_changed`.

Choices where Mailchimp documents nothing (each is [unconfirmed]):
- an address that is not a contact of the list, or whose contact is archived, is "not found": in a bulk
  change it is listed in `errors`, in `static_segment` (create, update) it is ignored, as the spec says;
- adding a contact already in the segment, or removing one that is not, is neither counted nor an error;
- within one bulk call the additions are applied before the removals;
- reads (`member_count`, `.../members`) show subscribed contacts only, unless `include_cleaned`,
  `include_transactional` or `include_unsubscribed` asks for more (the spec's flags); pending and archived
  contacts are never shown, though they keep their tags.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oracle_mailchimp_dagster.sandbox.mailchimp import problems
from oracle_mailchimp_dagster.sandbox.mailchimp.emails import subscriber_hash
from oracle_mailchimp_dagster.sandbox.mailchimp.members import WriteContext, check_tag_names
from oracle_mailchimp_dagster.sandbox.mailchimp.models import AudienceList, Member, Segment

Body = Mapping[str, Any]

# Wording [unconfirmed]: no real response with a non-empty `errors` array is on record.
NOT_IN_LIST = "Email addresses are not subscribed to the list"


@dataclass
class MembershipChange:
    """The outcome of `POST /lists/{id}/segments/{segment_id}`: who was added, removed, and who not."""

    added: list[Member] = field(default_factory=list)
    removed: list[Member] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        """The number of addresses in error (each `errors` entry groups the addresses of one reason)."""
        return sum(len(entry["email_addresses"]) for entry in self.errors)


def shown_statuses(
    *, cleaned: bool = False, transactional: bool = False, unsubscribed: bool = False
) -> set[str]:
    """The statuses a segment read shows, given its `include_*` flags."""
    flags = {"cleaned": cleaned, "transactional": transactional, "unsubscribed": unsubscribed}
    return {"subscribed", *(status for status, included in flags.items() if included)}


def segment_members(audience: AudienceList, segment: Segment, statuses: set[str]) -> list[Member]:
    """The segment's members with one of `statuses`, in list order."""
    found = [m for m in audience.members.values() if segment.id in m.tags and m.status in statuses]
    found.sort(key=lambda m: m.seq)
    return found


def member_counts(audience: AudienceList, statuses: set[str]) -> Counter[int]:
    """`member_count` of every segment at once: one pass over the members."""
    counts: Counter[int] = Counter()
    for member in audience.members.values():
        if member.status in statuses:
            counts.update(member.tags.keys())
    return counts


class SegmentWrites:
    """The segment operations of the Marketing API on one audience."""

    def __init__(self, ctx: WriteContext) -> None:
        self.ctx = ctx

    # --- lookups -------------------------------------------------------------------------------------

    @staticmethod
    def get(audience: AudienceList, raw_id: str) -> Segment:
        segment = audience.segments.get(int(raw_id)) if raw_id.isdigit() else None
        if segment is None:
            raise problems.resource_not_found()
        return segment

    def _taggable(self, audience: AudienceList, email: str) -> Member | None:
        """The contact an address names, if a segment may hold it (not archived; see the switches)."""
        member = audience.members.get(subscriber_hash(email))
        if member is None or member.status == "archived":
            return None
        if self.ctx.switches.segment_members_must_be_subscribed and member.status != "subscribed":
            return None
        return member

    # --- create, update, delete ----------------------------------------------------------------------

    def _check_name(self, audience: AudienceList, name: str, renaming: Segment | None = None) -> None:
        check_tag_names([("name", name)], self.ctx.switches.tag_name_max_len)
        other = audience.segment_named(name)
        if other is not None and other is not renaming:
            raise problems.segment_name_taken()

    @staticmethod
    def _check_kind(body: Body, *, creating: bool) -> None:
        has_emails, has_options = "static_segment" in body, "options" in body
        if has_emails and has_options:
            raise problems.segment_emails_with_conditions()
        if has_options:
            raise problems.saved_segments_unsupported()
        if creating and not has_emails:
            raise problems.segment_needs_emails_or_conditions()

    def create(self, audience: AudienceList, body: Body) -> Segment:
        """`POST /lists/{id}/segments` with `static_segment`: a new tag holding the listed contacts."""
        name = str(body["name"])
        self._check_kind(body, creating=True)
        self._check_name(audience, name)
        now = self.ctx.clock.now()
        segment = audience.add_segment(name, now)
        self._set_members(audience, segment, body["static_segment"])
        return segment

    def update(self, audience: AudienceList, segment: Segment, body: Body) -> None:
        """`PATCH .../segments/{id}`: rename; a `static_segment` replaces the members (`[]` empties it)."""
        name = str(body["name"])
        self._check_kind(body, creating=False)
        self._check_name(audience, name, renaming=segment)
        if name.strip() != segment.name:
            audience.rename_segment(segment, name)
            segment.updated_at = self.ctx.clock.now()
        if "static_segment" in body:
            self._set_members(audience, segment, body["static_segment"])

    def delete(self, audience: AudienceList, segment: Segment) -> None:
        """`DELETE .../segments/{id}`: the tag goes, from every contact that had it."""
        now = self.ctx.clock.now()
        for member in audience.members.values():
            if audience.untag(member, segment, now):
                member.last_changed = now
        audience.remove_segment(segment)

    def _set_members(self, audience: AudienceList, segment: Segment, emails: Iterable[str]) -> None:
        now = self.ctx.clock.now()
        wanted: dict[str, Member] = {}
        for email in emails:
            member = self._taggable(audience, email)
            if member is not None:
                wanted[member.id] = member
        for member in audience.members.values():
            if member.id not in wanted and audience.untag(member, segment, now):
                member.last_changed = now
        for member in wanted.values():
            if audience.tag(member, segment, now):
                member.last_changed = now

    # --- membership ------------------------------------------------------------------------------------

    def change_members(
        self, audience: AudienceList, segment: Segment, to_add: Sequence[str], to_remove: Sequence[str]
    ) -> MembershipChange:
        """`POST .../segments/{id}`: bulk add and remove by address; unknowns are listed, not fatal."""
        now = self.ctx.clock.now()
        change = MembershipChange()
        missing_add: list[str] = []
        for email in to_add:
            member = self._taggable(audience, email)
            if member is None:
                missing_add.append(email)
            elif audience.tag(member, segment, now):
                member.last_changed = now
                change.added.append(member)
        missing_remove: list[str] = []
        for email in to_remove:
            member = self._taggable(audience, email)
            if member is None:
                missing_remove.append(email)
            elif audience.untag(member, segment, now):
                member.last_changed = now
                change.removed.append(member)
        change.errors = [
            {"email_addresses": missing, "error": NOT_IN_LIST}
            for missing in (missing_add, missing_remove)
            if missing
        ]
        return change

    def add_member(self, audience: AudienceList, segment: Segment, email: str) -> Member:
        """`POST .../segments/{id}/members`: one contact; an address not on the list is 404 [unconfirmed]."""
        member = self._taggable(audience, email)
        if member is None:
            raise problems.resource_not_found()
        now = self.ctx.clock.now()
        if audience.tag(member, segment, now):
            member.last_changed = now
        return member

    def remove_member(self, audience: AudienceList, segment: Segment, ref: str) -> None:
        """`DELETE .../segments/{id}/members/{hash}`: 404 unless the contact is in the segment."""
        member = audience.find_member(ref)
        if member is None or member.status == "archived" or segment.id not in member.tags:
            raise problems.resource_not_found()
        now = self.ctx.clock.now()
        audience.untag(member, segment, now)
        member.last_changed = now
