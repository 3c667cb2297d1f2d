"""Member writes on one audience: create, upsert, update, archive, erase, tags and batch subscribe.

Every write validates first (in the order of reference §9.4) and changes state only when all checks pass;
`last_changed` moves whenever a stored value actually changes. Errors are `MailchimpProblem`s.
"""

from collections.abc import Mapping
from dataclasses import astuple, dataclass, field
from typing import Any

from oracle_mailchimp_dagster.sandbox.mailchimp import problems
from oracle_mailchimp_dagster.sandbox.mailchimp.clock import SandboxClock, iso
from oracle_mailchimp_dagster.sandbox.mailchimp.compliance import (
    ComplianceViolation,
    StatusChange,
    change_status,
)
from oracle_mailchimp_dagster.sandbox.mailchimp.config import MailchimpSwitches
from oracle_mailchimp_dagster.sandbox.mailchimp.emails import is_valid_email, looks_fake, subscriber_hash
from oracle_mailchimp_dagster.sandbox.mailchimp.ids import IdSource
from oracle_mailchimp_dagster.sandbox.mailchimp.merge_values import validate_merge_fields
from oracle_mailchimp_dagster.sandbox.mailchimp.models import AudienceList, Member
from oracle_mailchimp_dagster.sandbox.mailchimp.problems import FieldError, MailchimpProblem

Body = Mapping[str, Any]
_PLAIN_FIELDS = ("language", "vip", "email_type", "ip_signup", "timestamp_signup", "ip_opt", "timestamp_opt")


@dataclass
class WriteContext:
    """What every write needs besides the audience: time, switches, ids and who is acting."""

    clock: SandboxClock
    switches: MailchimpSwitches
    ids: IdSource
    actor: str = "api"


@dataclass
class BatchResult:
    new_members: list[Member] = field(default_factory=list)
    updated_members: list[Member] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class _Plan:
    """A validated change to one existing member, applied only once every check has passed."""

    merge_values: dict[str, Any]
    status: StatusChange | None = None
    new_email: str | None = None


def _fingerprint(member: Member) -> tuple[Any, ...]:
    return astuple(member)


def check_tag_names(names: list[tuple[str, str]], limit: int) -> None:
    """Tag (static segment) names, given as (field path, name), are 1 to `limit` characters once trimmed."""
    errors = [
        FieldError(path, f"Tag names must be between 1 and {limit} characters")
        for path, name in names
        if not name.strip() or len(name.strip()) > limit
    ]
    if errors:
        raise problems.schema_errors(errors)


class MemberWrites:
    """The write operations of the Marketing API on one audience."""

    def __init__(self, ctx: WriteContext) -> None:
        self.ctx = ctx

    # --- lookups -------------------------------------------------------------------------------------

    @staticmethod
    def get(audience: AudienceList, ref: str) -> Member:
        member = audience.find_member(ref)
        if member is None:
            raise problems.resource_not_found()
        return member

    # --- checks shared by every write ----------------------------------------------------------------

    def _check_address(self, email: str, *, signup: bool) -> None:
        switches = self.ctx.switches
        if not is_valid_email(email):
            raise problems.invalid_email()
        if looks_fake(email, switches.fake_domains, switches.fake_tlds, switches.fake_local_parts):
            raise problems.fake_email(email)
        if signup and email.lower() in switches.signup_velocity_emails:
            raise problems.signup_velocity(email)

    def _check_merge(
        self, audience: AudienceList, body: Body, stored: Mapping[str, Any], *, creating: bool, skip: bool
    ) -> dict[str, Any]:
        switches = self.ctx.switches
        outcome = validate_merge_fields(
            audience.merge_fields,
            body.get("merge_fields") or {},
            stored,
            creating=creating,
            skip_required=skip,
            text_max_len=switches.text_max_len,
            text_too_long=switches.text_too_long,
        )
        if outcome.errors:
            raise problems.merge_field_errors(outcome.errors)
        return outcome.values

    @staticmethod
    def _check_not_forgotten(audience: AudienceList, email: str) -> None:
        if subscriber_hash(email) in audience.tombstones:
            raise problems.forgotten_email(email)

    # --- create ----------------------------------------------------------------------------------------

    def _plan_new(self, audience: AudienceList, body: Body, status: str | None, skip: bool) -> dict[str, Any]:
        email = str(body["email_address"])
        self._check_address(email, signup=True)
        merge_values = self._check_merge(audience, body, {}, creating=True, skip=skip)
        self._check_not_forgotten(audience, email)
        if status is None:
            raise problems.schema_errors([FieldError("", "Required fields were not provided: status_if_new")])
        return merge_values

    def _insert(
        self, audience: AudienceList, body: Body, status: str, merge_values: dict[str, Any]
    ) -> Member:
        email = str(body["email_address"])
        now = self.ctx.clock.now()
        ids = self.ctx.ids
        member = Member(
            id=subscriber_hash(email),
            email_address=email,
            unique_email_id=ids.hex(10),
            contact_id=ids.hex(32),
            web_id=ids.web_id(),
            status=status,
            seq=audience.next_seq,
            last_changed=now,
        )
        audience.next_seq += 1
        member.merge_fields = merge_values
        self._apply_plain_fields(member, body)
        if status == "subscribed" and not member.timestamp_opt:
            member.timestamp_opt = iso(now)
        if status == "pending" and not member.timestamp_signup:
            member.timestamp_signup = iso(now)
        if status == "unsubscribed":
            member.unsub_source, member.unsubscribed_at = self.ctx.actor, now
        self._add_tags(audience, member, body.get("tags") or [], replace=False)
        audience.members[member.id] = member
        return member

    def create(self, audience: AudienceList, body: Body, skip_merge_validation: bool = False) -> Member:
        """`POST /lists/{id}/members`: create only; an existing contact (even archived) is `Member Exists`."""
        email = str(body["email_address"])
        merge_values = self._plan_new(audience, body, str(body["status"]), skip_merge_validation)
        if subscriber_hash(email) in audience.members:
            raise problems.member_exists(email)
        return self._insert(audience, body, str(body["status"]), merge_values)

    # --- upsert / update -------------------------------------------------------------------------------

    def upsert(
        self, audience: AudienceList, ref: str, body: Body, skip_merge_validation: bool = False
    ) -> Member:
        """`PUT /lists/{id}/members/{ref}`: update the contact at `ref`, or create it with `status_if_new`."""
        member = audience.find_member(ref)
        if member is not None:
            return self._update(audience, member, body, skip_merge_validation)
        email = str(body["email_address"])
        if not is_valid_email(email):
            raise problems.invalid_email()
        if subscriber_hash(email) in audience.members:
            raise problems.member_exists(email)
        status = body.get("status_if_new") or body.get("status")
        merge_values = self._plan_new(audience, body, status, skip_merge_validation)
        return self._insert(audience, body, str(status), merge_values)

    def update(
        self, audience: AudienceList, ref: str, body: Body, skip_merge_validation: bool = False
    ) -> Member:
        """`PATCH /lists/{id}/members/{ref}`: update an existing contact (404 otherwise)."""
        return self._update(audience, self.get(audience, ref), body, skip_merge_validation)

    def _plan_update(
        self, audience: AudienceList, member: Member, body: Body, skip: bool, *, allow_email_change: bool
    ) -> _Plan:
        new_email = body.get("email_address") if allow_email_change else None
        changing_email = bool(new_email) and str(new_email).lower() != member.email_address.lower()
        if changing_email:
            self._check_address(str(new_email), signup=False)
        plan = _Plan(self._check_merge(audience, body, member.merge_fields, creating=False, skip=skip))
        requested = body.get("status")
        if requested:
            try:
                plan.status = change_status(
                    member.effective_status, member.unsub_source, str(requested), self.ctx.actor
                )
            except ComplianceViolation:
                raise problems.compliance_state(member.email_address) from None
        if changing_email:
            email = str(new_email)
            other = audience.members.get(subscriber_hash(email))
            if other is not None:
                raise problems.email_taken(email, other.status)
            self._check_not_forgotten(audience, email)
            if member.status != "subscribed":
                raise problems.email_change_not_allowed(member.status)
            plan.new_email = email
        elif new_email:
            plan.new_email = str(new_email)
        return plan

    def _apply(self, audience: AudienceList, member: Member, body: Body, plan: _Plan) -> Member:
        before = _fingerprint(member)
        now = self.ctx.clock.now()
        member.merge_fields = {**member.merge_fields, **plan.merge_values}
        self._apply_plain_fields(member, body)
        if plan.status is not None:
            self._set_status(member, plan.status)
        if plan.new_email is not None and plan.new_email != member.email_address:
            del audience.members[member.id]
            member.email_address = plan.new_email
            member.id = subscriber_hash(plan.new_email)
            audience.members[member.id] = member
        if _fingerprint(member) != before:
            member.last_changed = now
        return member

    def _update(self, audience: AudienceList, member: Member, body: Body, skip: bool) -> Member:
        plan = self._plan_update(audience, member, body, skip, allow_email_change=True)
        return self._apply(audience, member, body, plan)

    def _set_status(self, member: Member, change: StatusChange) -> None:
        now = self.ctx.clock.now()
        if member.status == "archived":
            member.prev_status_before_archive = None
        elif change.status == member.status:
            return
        if change.status == "subscribed" and member.effective_status != "subscribed":
            member.timestamp_opt = iso(now)
        if change.status == "unsubscribed" and member.effective_status != "unsubscribed":
            member.unsubscribed_at = now
        member.status = change.status
        member.unsub_source = change.unsub_source

    @staticmethod
    def _apply_plain_fields(member: Member, body: Body) -> None:
        for name in _PLAIN_FIELDS:
            if name in body:
                setattr(member, name, body[name])
        if "interests" in body:
            member.interests = {**member.interests, **body["interests"]}
        if "location" in body:
            member.location = {**member.location, **body["location"]}

    # --- archive and erase -----------------------------------------------------------------------------

    def archive(self, audience: AudienceList, ref: str) -> None:
        """`DELETE /lists/{id}/members/{ref}`: archive (restorable); cleaned contacts cannot be removed."""
        member = self.get(audience, ref)
        if member.status == "archived":
            return
        if member.status == "cleaned":
            raise problems.member_cannot_be_removed()
        member.prev_status_before_archive = member.status
        member.status = "archived"
        member.last_changed = self.ctx.clock.now()

    def delete_permanent(self, audience: AudienceList, ref: str) -> None:
        """`POST .../actions/delete-permanent`: erase the contact and refuse its address for ever."""
        member = self.get(audience, ref)
        del audience.members[member.id]
        audience.tombstones.add(member.id)

    # --- tags ------------------------------------------------------------------------------------------

    def _add_tags(self, audience: AudienceList, member: Member, names: list[str], *, replace: bool) -> None:
        now = self.ctx.clock.now()
        wanted = [audience.segment_for(name, now) for name in names]
        if replace:
            keep = {segment.id for segment in wanted}
            for segment_id in [k for k in member.tags if k not in keep]:
                audience.untag(member, audience.segments[segment_id], now)
        for segment in wanted:
            audience.tag(member, segment, now)

    def set_tags(self, audience: AudienceList, ref: str, body: Body) -> None:
        """`POST .../tags`: `active` adds (creating the tag, a static segment, if new); `inactive` removes."""
        member = self.get(audience, ref)
        items = list(body["tags"])
        names = [(f"tags.item:{i}.name", str(t["name"])) for i, t in enumerate(items)]
        check_tag_names(names, self.ctx.switches.tag_name_max_len)
        before = _fingerprint(member)
        now = self.ctx.clock.now()
        for item in items:
            name = str(item["name"])
            if item["status"] == "active":
                audience.tag(member, audience.segment_for(name, now), now)
            else:
                segment = audience.segment_named(name)
                if segment is not None:
                    audience.untag(member, segment, now)
        if _fingerprint(member) != before:
            member.last_changed = now

    # --- batch subscribe -------------------------------------------------------------------------------

    def batch(
        self,
        audience: AudienceList,
        body: Body,
        *,
        skip_merge_validation: bool = False,
        skip_duplicate_check: bool = False,
    ) -> BatchResult:
        """`POST /lists/{id}`: each member on its own; failures are listed, not fatal (200 with `errors`)."""
        members = list(body["members"])
        tag_names = [
            (f"members.item:{i}.tags.item:{j}", str(name))
            for i, item in enumerate(members)
            for j, name in enumerate(item.get("tags") or [])
        ]
        check_tag_names(tag_names, self.ctx.switches.tag_name_max_len)
        result = BatchResult()
        seen: set[str] = set()
        for item in members:
            email = str(item["email_address"])
            key = subscriber_hash(email)
            if key in seen:
                if not skip_duplicate_check:
                    result.errors.append(_batch_error(email, problems.duplicate_in_batch(email)))
                continue
            seen.add(key)
            try:
                member, created = self._batch_one(audience, item, body, skip_merge_validation)
            except MailchimpProblem as problem:
                result.errors.append(_batch_error(email, problem))
                continue
            (result.new_members if created else result.updated_members).append(member)
        return result

    def _batch_one(self, audience: AudienceList, item: Body, body: Body, skip: bool) -> tuple[Member, bool]:
        email = str(item["email_address"])
        if not is_valid_email(email):
            raise problems.invalid_email()
        existing = audience.members.get(subscriber_hash(email))
        if existing is None:
            status = item.get("status_if_new") or item.get("status")
            merge_values = self._plan_new(audience, item, status, skip)
            return self._insert(audience, item, str(status), merge_values), True
        if not body.get("update_existing"):
            raise problems.contact_exists_in_batch(email)
        plan = self._plan_update(audience, existing, item, skip, allow_email_change=False)
        member = self._apply(audience, existing, item, plan)
        if "tags" in item:
            before = _fingerprint(member)
            self._add_tags(audience, member, list(item["tags"]), replace=bool(body.get("sync_tags")))
            if _fingerprint(member) != before:
                member.last_changed = self.ctx.clock.now()
        return member, False


def _batch_error(email: str, problem: MailchimpProblem) -> dict[str, str]:
    """One `errors[]` entry of a batch response; merge-field problems name the field (codegen PR #303)."""
    first = problem.errors[0] if problem.errors else None
    return {
        "email_address": email,
        "error": problems.SCHEMA_DETAIL if first else problem.detail,
        "error_code": problem.error_code,
        "field": first.field if first else "",
        "field_message": first.message if first else "",
    }
