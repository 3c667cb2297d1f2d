"""What happens outside the API: contacts acting on their own, admins in the web app, and test seeding.

These are the events the connector must respect (a self-unsubscribe, a bounce), so the control API exposes
them; seeding writes raw state, bypassing validation, to reproduce states the API cannot create (an
incomplete stored ADDRESS, a contact who unsubscribed themselves).
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from oracle_mailchimp_dagster.sandbox.mailchimp.clock import iso
from oracle_mailchimp_dagster.sandbox.mailchimp.emails import subscriber_hash
from oracle_mailchimp_dagster.sandbox.mailchimp.members import WriteContext
from oracle_mailchimp_dagster.sandbox.mailchimp.models import AudienceList, Member

Status = Literal["subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"]
ContactAction = Literal["unsubscribe", "admin-unsubscribe", "bounce", "confirm", "profile"]


class ContactActionError(Exception):
    """The action does not apply to the contact in its current state."""


class SeedMember(BaseModel):
    """A member written straight into state (control API), in any state the real service can hold."""

    model_config = ConfigDict(extra="forbid")

    email_address: str
    status: Status = "subscribed"
    unsub_source: Literal["self", "admin", "api"] | None = None
    prev_status_before_archive: Literal["subscribed", "unsubscribed", "pending", "transactional"] | None = (
        None
    )
    merge_fields: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    interests: dict[str, bool] = Field(default_factory=dict)
    vip: bool = False
    language: str = ""
    email_type: Literal["html", "text"] = "html"
    timestamp_opt: str = ""
    timestamp_signup: str = ""
    last_changed: datetime | None = None


class ProfileChange(BaseModel):
    """A contact editing their own profile through the hosted form: raw values, no API validation."""

    model_config = ConfigDict(extra="forbid")

    merge_fields: dict[str, Any] = Field(default_factory=dict)
    email_address: str | None = None


class Signup(BaseModel):
    """A contact (re-)subscribing through a hosted signup form: their own, fresh consent."""

    model_config = ConfigDict(extra="forbid")

    email_address: str
    merge_fields: dict[str, Any] = Field(default_factory=dict)


def member_dump(audience: AudienceList, member: Member) -> dict[str, Any]:
    """The full stored state of a member, including what the API never shows (`unsub_source`)."""
    return {
        "id": member.id,
        "email_address": member.email_address,
        "contact_id": member.contact_id,
        "unique_email_id": member.unique_email_id,
        "web_id": member.web_id,
        "status": member.status,
        "prev_status_before_archive": member.prev_status_before_archive,
        "unsub_source": member.unsub_source,
        "unsubscribed_at": iso(member.unsubscribed_at) if member.unsubscribed_at else None,
        "merge_fields": member.merge_fields,
        "tags": audience.tag_names(member),
        "interests": member.interests,
        "vip": member.vip,
        "language": member.language,
        "email_type": member.email_type,
        "timestamp_signup": member.timestamp_signup,
        "timestamp_opt": member.timestamp_opt,
        "last_changed": iso(member.last_changed),
        "source": member.source,
    }


class ContactActions:
    """State changes made by contacts and admins rather than through the API."""

    def __init__(self, ctx: WriteContext) -> None:
        self.ctx = ctx

    def _new(self, audience: AudienceList, email: str, status: str, source: str) -> Member:
        ids = self.ctx.ids
        member = Member(
            id=subscriber_hash(email),
            email_address=email,
            unique_email_id=ids.hex(10),
            contact_id=ids.hex(32),
            web_id=ids.web_id(),
            status=status,
            seq=audience.next_seq,
            last_changed=self.ctx.clock.now(),
            source=source,
        )
        audience.next_seq += 1
        return member

    def seed(self, audience: AudienceList, seed: SeedMember) -> Member:
        existing = audience.members.get(subscriber_hash(seed.email_address))
        member = existing or self._new(audience, seed.email_address, seed.status, "Import")
        now = self.ctx.clock.now()
        member.email_address = seed.email_address
        member.status = seed.status
        member.unsub_source = seed.unsub_source
        member.prev_status_before_archive = seed.prev_status_before_archive
        if seed.status == "archived" and member.prev_status_before_archive is None:
            member.prev_status_before_archive = "unsubscribed" if seed.unsub_source else "subscribed"
        member.unsubscribed_at = (
            now if "unsubscribed" in (seed.status, seed.prev_status_before_archive) else None
        )
        member.merge_fields = dict(seed.merge_fields)
        member.tags = {}
        for name in seed.tags:
            audience.tag(member, audience.segment_for(name, now), now)
        member.interests = dict(seed.interests)
        member.vip, member.language, member.email_type = seed.vip, seed.language, seed.email_type
        member.timestamp_opt = seed.timestamp_opt or (iso(now) if seed.status == "subscribed" else "")
        member.timestamp_signup = seed.timestamp_signup
        member.last_changed = seed.last_changed or now
        audience.tombstones.discard(member.id)
        audience.members[member.id] = member
        return member

    def act(
        self, audience: AudienceList, member: Member, action: ContactAction, body: dict[str, Any]
    ) -> Member:
        now = self.ctx.clock.now()
        if member.status == "archived":
            raise ContactActionError(f"{action}: the contact is archived")
        if action in ("unsubscribe", "admin-unsubscribe"):
            if member.status == "cleaned":
                raise ContactActionError(f"{action}: the contact is cleaned")
            member.status = "unsubscribed"
            member.unsub_source = "self" if action == "unsubscribe" else "admin"
            member.unsubscribed_at = now
        elif action == "bounce":
            member.status, member.unsub_source = "cleaned", None
        elif action == "confirm":
            if member.status != "pending":
                raise ContactActionError(f"confirm: the contact is {member.status}, not pending")
            member.status, member.unsub_source, member.timestamp_opt = "subscribed", None, iso(now)
        else:
            self._profile(audience, member, ProfileChange.model_validate(body))
        member.last_changed = now
        return member

    @staticmethod
    def _profile(audience: AudienceList, member: Member, change: ProfileChange) -> None:
        member.merge_fields = {**member.merge_fields, **change.merge_fields}
        new_email = change.email_address
        if new_email and new_email.lower() != member.email_address.lower():
            if subscriber_hash(new_email) in audience.members:
                raise ContactActionError(f"profile: {new_email} is already in this list")
            del audience.members[member.id]
            member.id = subscriber_hash(new_email)
            audience.members[member.id] = member
        if new_email:
            member.email_address = new_email

    def signup(self, audience: AudienceList, signup: Signup) -> Member:
        key = subscriber_hash(signup.email_address)
        now = self.ctx.clock.now()
        member = audience.members.get(key) or self._new(
            audience, signup.email_address, "subscribed", "Hosted Signup Form"
        )
        member.status, member.unsub_source, member.prev_status_before_archive = "subscribed", None, None
        member.merge_fields = {**member.merge_fields, **signup.merge_fields}
        member.timestamp_signup = member.timestamp_signup or iso(now)
        member.timestamp_opt = iso(now)
        member.last_changed = now
        audience.tombstones.discard(key)
        audience.members[key] = member
        return member
