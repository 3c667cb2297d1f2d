"""One Mailchimp audience in memory: members by subscriber hash, merge fields, and every call made.

It keeps the rules the executor relies on (`pipeline.ports.AudienceClient`): an upsert creates or
updates and never changes an existing member's status (a new one gets `status_if_new`); archiving,
erasing or changing a member that is not there raises `MailchimpNotFoundError`; Mailchimp changes
the address of subscribed members only, and refuses a new address that is already a member. Errors
are built as the real client builds them (`classify`, `error_for`), so the executor sees the same
kinds. `calls` records each call, so a test can assert which writes a run made.
"""

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from types import TracebackType
from typing import Any

from oracle_mailchimp_dagster.mailchimp import (
    ErrorKind,
    ListMember,
    MailchimpClientOptions,
    MailchimpProblem,
    MemberChanges,
    MemberOutcome,
    MemberUpsert,
    MergeField,
    TagChange,
    classify,
)
from oracle_mailchimp_dagster.mailchimp.errors import error_for
from oracle_mailchimp_dagster.mailchimp.models import tag_key
from oracle_mailchimp_dagster.sync.identity import subscriber_hash

# The merge fields Mailchimp gives a new audience (the default tenant mapping needs these four).
NEW_AUDIENCE_FIELDS = (
    MergeField(merge_id=1, tag="FNAME", name="First Name", type="text"),
    MergeField(merge_id=2, tag="LNAME", name="Last Name", type="text"),
    MergeField(merge_id=3, tag="ADDRESS", name="Address", type="address"),
    MergeField(merge_id=4, tag="PHONE", name="Phone Number", type="phone"),
)
READS = frozenset({"get_merge_fields", "iter_members_changed_since"})


@dataclass
class StoredMember:
    """A member as the audience holds it (tags as first spelled; they compare case-insensitively)."""

    email_address: str
    status: str
    merge_fields: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    last_changed: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def id(self) -> str:
        return subscriber_hash(self.email_address)

    def as_list_member(self) -> ListMember:
        return ListMember(
            id=self.id, email_address=self.email_address, status=self.status, last_changed=self.last_changed
        )


@dataclass(frozen=True)
class AudienceCall:
    """One call: its method and the (lower-cased) addresses it was about."""

    method: str
    emails: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        return self.method not in READS


def _problem(status: int, title: str, detail: str) -> MailchimpProblem:
    return MailchimpProblem(classify(status, title, detail), title, detail, status)


def not_found(email: str) -> MailchimpProblem:
    return MailchimpProblem(
        ErrorKind.NOT_FOUND, "Resource Not Found", f"{email} is not a member of the list.", 404
    )


class InMemoryAudience:
    """The one list `list_id`; a call naming another list fails as a configuration error would."""

    def __init__(
        self,
        list_id: str,
        *,
        merge_fields: Iterable[MergeField] = NEW_AUDIENCE_FIELDS,
        concurrency: int = 4,
        batch_size: int = 500,
    ) -> None:
        self.list_id = list_id
        self.merge_fields = list(merge_fields)
        self.options = MailchimpClientOptions(concurrency=concurrency, batch_size=batch_size)
        self.members: dict[str, StoredMember] = {}
        self.archived: dict[str, StoredMember] = {}
        self.erased: set[str] = set()
        self.calls: list[AudienceCall] = []
        self._lock = threading.Lock()

    # ---- what a test reads ----------------------------------------------------------------------

    def member(self, email: str) -> StoredMember | None:
        return self.members.get(subscriber_hash(email))

    def emails(self) -> set[str]:
        """The lower-cased addresses of the live (not archived) members."""
        return {m.email_address.lower() for m in self.members.values()}

    @property
    def writes(self) -> list[AudienceCall]:
        return [call for call in self.calls if call.writes]

    def addressed(self, method: str, since: int = 0) -> set[str]:
        """The addresses the calls of `method` were about, from the `since`th call on."""
        return {email for call in self.calls[since:] if call.method == method for email in call.emails}

    def seed(self, email: str, status: str = "subscribed", **merge_fields: Any) -> StoredMember:
        """A member that was there before the sync (not recorded as a call)."""
        member = StoredMember(email, status, dict(merge_fields))
        self.members[member.id] = member
        return member

    # ---- the client ----------------------------------------------------------------------------

    def __enter__(self) -> "InMemoryAudience":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def get_merge_fields(self, list_id: str) -> list[MergeField]:
        self._call("get_merge_fields", list_id)
        return list(self.merge_fields)

    def upsert_many(self, list_id: str, members: Iterable[MemberUpsert]) -> Iterator[list[MemberOutcome]]:
        source = iter(members)
        while batch := list(islice(source, self.options.batch_size)):
            self._call("upsert_many", list_id, *(m.email_address for m in batch))
            with self._lock:
                outcomes = [self._upsert(m) for m in batch]
            yield outcomes

    def put_member(self, list_id: str, member: MemberUpsert) -> ListMember:
        self._call("put_member", list_id, member.email_address)
        with self._lock:
            outcome = self._upsert(member)
            if outcome.problem is not None:
                raise error_for(outcome.problem)
            return self.members[subscriber_hash(member.email_address)].as_list_member()

    def update_member(self, list_id: str, email: str, changes: MemberChanges) -> ListMember:
        self._call("update_member", list_id, email)
        with self._lock:
            member = self._live(email)
            new_email = changes.email_address
            if new_email is not None and new_email.lower() != email.lower():
                self._check_address_change(member, new_email)
                del self.members[member.id]
                member.email_address = new_email
                self.members[member.id] = member
            if changes.status is not None:
                member.status = changes.status
            member.merge_fields.update(changes.merge_fields)
            member.last_changed = datetime.now(UTC)
            return member.as_list_member()

    def archive_member(self, list_id: str, email: str) -> None:
        self._call("archive_member", list_id, email)
        with self._lock:
            member = self._live(email)
            self.archived[member.id] = self.members.pop(member.id)

    def delete_member_permanently(self, list_id: str, email: str) -> None:
        self._call("delete_member_permanently", list_id, email)
        hash_ = subscriber_hash(email)
        with self._lock:
            if self.members.pop(hash_, None) is None and self.archived.pop(hash_, None) is None:
                raise error_for(not_found(email))
            self.erased.add(hash_)

    def apply_tag_changes(
        self, list_id: str, changes: Mapping[str, TagChange]
    ) -> dict[str, MailchimpProblem]:
        wanted = {email: change for email, change in changes.items() if change.add or change.remove}
        if not wanted:
            return {}
        self._call("apply_tag_changes", list_id, *wanted)
        problems: dict[str, MailchimpProblem] = {}
        with self._lock:
            for email, change in wanted.items():
                member = self.members.get(subscriber_hash(email))
                if member is None:
                    problems[email] = not_found(email)
                    continue
                removed = {tag_key(name) for name in change.remove}
                tags = [name for name in member.tags if tag_key(name) not in removed]
                held = {tag_key(name) for name in tags}
                tags += [name for name in change.add if tag_key(name) not in held]
                member.tags = tags
        return problems

    def iter_members_changed_since(
        self, list_id: str, since: datetime, *, status: str | None = None
    ) -> Iterator[ListMember]:
        self._call("iter_members_changed_since", list_id)
        with self._lock:
            found = [
                m
                for m in self.members.values()
                if m.last_changed >= since and (status is None or m.status == status)
            ]
        for member in sorted(found, key=lambda m: m.last_changed):
            yield member.as_list_member()

    # ---- the rules --------------------------------------------------------------------------------

    def _call(self, method: str, list_id: str, *emails: str) -> None:
        with self._lock:
            self.calls.append(AudienceCall(method, tuple(e.lower() for e in emails)))
        if list_id != self.list_id:
            raise error_for(_problem(404, "Resource Not Found", f"list {list_id} does not exist"))

    def _live(self, email: str) -> StoredMember:
        member = self.members.get(subscriber_hash(email))
        if member is None:
            raise error_for(not_found(email))
        return member

    def _check_address_change(self, member: StoredMember, new_email: str) -> None:
        if member.status != "subscribed":
            raise error_for(
                _problem(
                    400,
                    "Invalid Resource",
                    f'This member\'s status is "{member.status}." You can only update email addresses '
                    'for members with a status of "subscribed."',
                )
            )
        if subscriber_hash(new_email) in self.members:
            raise error_for(_problem(400, "Member Exists", f"{new_email} is already a list member."))

    def _upsert(self, upsert: MemberUpsert) -> MemberOutcome:
        """Create or update one member (the lock is held); existing members keep their status."""
        email, hash_ = upsert.email_address, subscriber_hash(upsert.email_address)
        if hash_ in self.erased:
            detail = f"{email} was permanently deleted and cannot be re-imported."
            problem = _problem(400, "Forgotten Email Not Subscribed", detail)
            return MemberOutcome(email, "error", problem=problem)
        member = self.members.get(hash_)
        created = member is None
        if member is None:
            member = self.archived.pop(hash_, None) or StoredMember(email, upsert.status_if_new)
            member.status = upsert.status_if_new
            self.members[hash_] = member
        if upsert.status is not None:
            member.status = upsert.status
        member.merge_fields.update(upsert.merge_fields)
        member.last_changed = datetime.now(UTC)
        return MemberOutcome(email, "created" if created else "updated", member.id, member.status)
