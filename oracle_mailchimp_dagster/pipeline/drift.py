"""Drift: what changed in Mailchimp behind the connector's back, found by comparing the audience with the
member state the connector keeps (what Oracle said each managed member should be when it was last sent).

Pure: the expected members are built from stored state, each audience member is compared with its
expectation, and the findings are counted and sampled. Reading and repairing are `reconcile`'s.
"""

import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from oracle_mailchimp_dagster.mailchimp.audience_reads import AudienceMember
from oracle_mailchimp_dagster.mailchimp.models import tag_key
from oracle_mailchimp_dagster.sync.model import MemberState
from oracle_mailchimp_dagster.sync.state import NO_MEMBER, tags_unsure

SAMPLE_SIZE = 10


class DriftClass(StrEnum):
    """One kind of difference between a managed member and what the connector last made of it."""

    MISSING_MEMBER = "missing_member"  # Mailchimp has no member (deleted, or never created)
    STALE_MERGE_FIELDS = "stale_merge_fields"  # a merge value differs from the one last sent
    MISSING_TAGS = "missing_tags"  # a managed tag the member should have is gone
    EXTRA_TAGS = "extra_tags"  # a managed tag the member should not have is on it
    EMAIL_DIFFERS = "email_differs"  # the address shows another spelling than the one sent
    ARCHIVED_BY_PERSON = "archived_by_person"  # archived in Mailchimp, not by the tenant's policy
    STATUS_DIFFERS = "status_differs"  # reported only: statuses are never changed by a repair
    UNMANAGED = "unmanaged"  # in the list, not a customer's member: counted, never touched


# Classes a repair can act on, and the ones the drift rate counts; the others are reported only (status
# changes are people unsubscribing, and an address spelled otherwise under the same hash is only its case
# or spaces, a signup form's).
REPAIRABLE = frozenset(
    {
        DriftClass.MISSING_MEMBER,
        DriftClass.STALE_MERGE_FIELDS,
        DriftClass.MISSING_TAGS,
        DriftClass.EXTRA_TAGS,
        DriftClass.ARCHIVED_BY_PERSON,
    }
)
# A member stored with one of these is never re-created or restored: that could resubscribe a person.
NOT_RECREATED = frozenset({"unsubscribed", "cleaned"})
# Stored statuses a removal policy left: the member is expected archived or gone.
_REMOVED = frozenset({"archived", "deleted"})


# The keys of a member's merge fields, nested for an address: shared by every member with the same keys.
Shape = tuple[tuple[str, "Shape | None"], ...]


@dataclass(frozen=True, slots=True)
class Expected:
    """The member one subscriber hash should be, from the customer that last wrote it.

    Compact, since a reconciliation holds one per managed member: the merge fields last sent are
    kept as their keys (shared) and a digest of their values; a member whose digest differs is
    checked value by value against its stored state (`stale_fields`), which also gives the values a
    repair sends.
    """

    customer_key: str
    email: str
    subscriber_hash: str
    status: str | None
    tags: frozenset[str]
    shape: Shape | None  # None: sent before the fields were kept (migration 0004)
    digest: int
    archived_by_policy: bool
    last_synced_at: datetime | None
    # False while a run that wrote the member stopped before settling its tags (`sync.state`): its
    # tags are not rated (the next sync settles them).
    tags_settled: bool = True


@dataclass(frozen=True, slots=True)
class Finding:
    """One drift class found on one member."""

    drift: DriftClass
    subscriber_hash: str
    email: str
    customer_key: str | None = None
    detail: str = ""
    fields: tuple[str, ...] = ()
    values: Mapping[str, Any] | None = None  # the stale fields' values last sent
    tags_add: tuple[str, ...] = ()
    tags_remove: tuple[str, ...] = ()


def shape_of(values: Mapping[str, Any]) -> Shape:
    return tuple(sorted((k, shape_of(v) if isinstance(v, Mapping) else None) for k, v in values.items()))


def _atom(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"#{float(value)!r}"
    return str(value).strip()


def canonical(values: Any, shape: Shape) -> str:
    """The values under `shape`'s keys as one string: equal strings mean equal values (the converse
    does not hold: a number sent as text differs here and is settled by `same_value`)."""
    found = values if isinstance(values, Mapping) else {}
    parts = [
        canonical(found.get(key), sub) if sub is not None else _atom(found.get(key)) for key, sub in shape
    ]
    return "{" + "\x1f".join(parts) + "}"


class ExpectedMembers:
    """Builds the expected member per subscriber hash from a stream of stored states.

    Of the customers holding one address, the newest active one that sent its own payload speaks
    for it. An address whose holders only share it (the payload's sender was refused, or is gone) is
    not expected: no customer says what it should hold. `managed_tags` collects every managed tag
    name (lower-cased) any state lists.
    """

    def __init__(self) -> None:
        self.by_hash: dict[str, Expected] = {}
        self.managed_tags: set[str] = set()
        self._shapes: dict[Shape, Shape] = {}
        self._tags: dict[frozenset[str], frozenset[str]] = {}

    def add(self, state: MemberState) -> None:
        self.managed_tags.update(tag_key(t) for t in state.managed_tags)
        digest_key = state.subscriber_hash
        if not digest_key or not state.email or state.payload_hash is None:
            return
        if state.known_status in NO_MEMBER:
            return
        held = self.by_hash.get(digest_key)
        if held is not None and not _speaks_before(state, held):
            return
        shape = None
        digest = 0
        if state.merge_fields is not None:
            found = shape_of(state.merge_fields)
            shape = self._shapes.setdefault(found, found)
            digest = hash(canonical(state.merge_fields, shape))
        status = sys.intern(state.known_status) if state.known_status else None
        self.by_hash[digest_key] = Expected(
            customer_key=state.customer_key,
            email=state.email,
            subscriber_hash=digest_key,
            status=status,
            tags=self._tags.setdefault(state.managed_tags, state.managed_tags),
            shape=shape,
            digest=digest,
            archived_by_policy=not state.active and state.known_status in _REMOVED,
            last_synced_at=state.last_synced_at,
            tags_settled=not tags_unsure(state),
        )


def expected_members(states: Iterable[MemberState]) -> tuple[dict[str, Expected], frozenset[str]]:
    """The expected member per subscriber hash, and every managed tag name (see `ExpectedMembers`)."""
    builder = ExpectedMembers()
    for state in states:
        builder.add(state)
    return builder.by_hash, frozenset(builder.managed_tags)


def _speaks_before(state: MemberState, held: Expected) -> bool:
    """The holder that wrote the member last speaks for it, as the sync reads an address's previous
    values and tags (the payload holder synced most recently)."""
    if state.last_synced_at and held.last_synced_at and state.last_synced_at != held.last_synced_at:
        return state.last_synced_at > held.last_synced_at
    if (state.last_synced_at is None) != (held.last_synced_at is None):
        return held.last_synced_at is None
    return state.customer_key < held.customer_key


def fields_differ(expected: Expected, member: AudienceMember) -> bool:
    """Whether the member's merge fields may differ from those last sent (`stale_fields` decides)."""
    if expected.shape is None or expected.archived_by_policy or member.status == "archived":
        return False
    return hash(canonical(member.merge_fields, expected.shape)) != expected.digest


def stale_fields(sent: Mapping[str, Any], shown: Mapping[str, Any]) -> tuple[str, ...]:
    """The merge fields whose value Mailchimp shows is not the one sent."""
    return tuple(sorted(k for k, v in sent.items() if not same_value(v, shown.get(k))))


def same_value(expected: Any, observed: Any) -> bool:
    """Whether Mailchimp still holds the value sent: an address compares part by part, numbers as
    numbers, text trimmed; an empty value and a missing one are the same."""
    if isinstance(expected, Mapping):
        seen = observed if isinstance(observed, Mapping) else {}
        return all(same_value(v, seen.get(k)) for k, v in expected.items())
    left, right = _blank(expected), _blank(observed)
    if isinstance(left, int | float) or isinstance(right, int | float):
        try:
            return float(left) == float(right)
        except (TypeError, ValueError):
            return False
    return str(left).strip() == str(right).strip()


def _blank(value: Any) -> Any:
    return "" if value is None else value


def stale_finding(expected: Expected, sent: Mapping[str, Any], shown: Mapping[str, Any]) -> Finding | None:
    """The stale merge fields of one member, with the values a repair sends; None when none is."""
    stale = stale_fields(sent, shown)
    if not stale:
        return None
    values = {k: sent[k] for k in stale}
    return _finding(expected, DriftClass.STALE_MERGE_FIELDS, ", ".join(stale), fields=stale, values=values)


def _finding(expected: Expected, drift: DriftClass, detail: str, **parts: Any) -> Finding:
    return Finding(
        drift,
        subscriber_hash=expected.subscriber_hash,
        email=expected.email,
        customer_key=expected.customer_key,
        detail=detail,
        **parts,
    )


def _tag_findings(expected: Expected, member: AudienceMember, managed_tags: frozenset[str]) -> list[Finding]:
    shown = {tag_key(t): t for t in member.tags}
    wanted = {tag_key(t): t for t in expected.tags}
    lost = tuple(sorted(wanted[k] for k in wanted.keys() - shown.keys()))
    extra = tuple(sorted(shown[k] for k in (shown.keys() & managed_tags) - wanted.keys()))
    findings = []
    if lost:
        findings.append(_finding(expected, DriftClass.MISSING_TAGS, ", ".join(lost), tags_add=lost))
    if extra:
        findings.append(_finding(expected, DriftClass.EXTRA_TAGS, ", ".join(extra), tags_remove=extra))
    return findings


def compare(expected: Expected, member: AudienceMember, managed_tags: frozenset[str]) -> list[Finding]:
    """The drift of one managed member as Mailchimp shows it, but its merge fields (`fields_differ`)."""
    if member.status == "archived":
        if expected.archived_by_policy:
            return []
        return [_finding(expected, DriftClass.ARCHIVED_BY_PERSON, "archived in Mailchimp")]
    if expected.archived_by_policy:
        detail = f"the tenant's policy archived it; Mailchimp shows it {member.status}"
        return [_finding(expected, DriftClass.STATUS_DIFFERS, detail)]
    findings = _tag_findings(expected, member, managed_tags) if expected.tags_settled else []
    if member.email_address.strip() != expected.email:
        findings.append(_finding(expected, DriftClass.EMAIL_DIFFERS, f"shows {member.email_address}"))
    if expected.status and member.status != expected.status:
        detail = f"{expected.status} when last synced, now {member.status}"
        findings.append(_finding(expected, DriftClass.STATUS_DIFFERS, detail))
    return findings


def missing(expected: Expected) -> list[Finding]:
    """Mailchimp has no member for this hash: drift unless the policy archived or removed it, or the member
    was unsubscribed or cleaned (nothing may bring such a member back: not drift to act on)."""
    if expected.archived_by_policy or expected.status in NOT_RECREATED:
        return []
    return [_finding(expected, DriftClass.MISSING_MEMBER, "not in the audience")]


def unmanaged(member: AudienceMember) -> Finding:
    return Finding(DriftClass.UNMANAGED, subscriber_hash=member.id, email=member.email_address)


@dataclass
class DriftReport:
    """Counts per class, a sample of each, and the rate the check compares with its limit."""

    managed: int = 0
    observed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[Finding]] = field(default_factory=dict)
    drifted: set[str] = field(default_factory=set)
    unverified_fields: int = 0

    def add(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.counts[finding.drift.value] += 1
            sample = self.samples.setdefault(finding.drift.value, [])
            if len(sample) < SAMPLE_SIZE:
                sample.append(finding)
            if finding.drift in REPAIRABLE:
                self.drifted.add(finding.subscriber_hash)

    @property
    def rate(self) -> float:
        """Managed members with drift of a repairable class, as a share of the managed members."""
        return len(self.drifted) / self.managed if self.managed else 0.0

    def by_class(self) -> dict[str, int]:
        return {c.value: self.counts.get(c.value, 0) for c in DriftClass}
