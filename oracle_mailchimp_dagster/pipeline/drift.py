"""Drift: what changed in Mailchimp behind the connector's back, found by comparing the audience with the
member state the connector keeps (what Oracle said each managed member should be when it was last sent).

Pure: the expected members are built from stored state, each audience member is compared with its
expectation, and the findings are counted and sampled. Reading and repairing are `reconcile`'s.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from oracle_mailchimp_dagster.mailchimp.audience_reads import AudienceMember
from oracle_mailchimp_dagster.mailchimp.models import tag_key
from oracle_mailchimp_dagster.sync.model import MemberState
from oracle_mailchimp_dagster.sync.state import NO_MEMBER

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


# Classes a repair can act on; the others are reported only.
REPAIRABLE = frozenset(
    {
        DriftClass.MISSING_MEMBER,
        DriftClass.STALE_MERGE_FIELDS,
        DriftClass.MISSING_TAGS,
        DriftClass.EXTRA_TAGS,
        DriftClass.ARCHIVED_BY_PERSON,
    }
)
# Classes that count towards the drift rate (status changes are people unsubscribing: not drift).
RATED = REPAIRABLE | {DriftClass.EMAIL_DIFFERS}
# Stored statuses a removal policy left: the member is expected archived or gone.
_REMOVED = frozenset({"archived", "deleted"})


@dataclass(frozen=True, slots=True)
class Expected:
    """The member one subscriber hash should be, from the customer that last wrote it."""

    customer_key: str
    email: str
    subscriber_hash: str
    status: str | None
    tags: frozenset[str]
    merge_fields: Mapping[str, Any] | None  # None: sent before they were kept (migration 0004)
    archived_by_policy: bool


@dataclass(frozen=True, slots=True)
class Finding:
    """One drift class found on one member."""

    drift: DriftClass
    subscriber_hash: str
    email: str
    customer_key: str | None = None
    detail: str = ""
    fields: tuple[str, ...] = ()
    tags_add: tuple[str, ...] = ()
    tags_remove: tuple[str, ...] = ()


def expected_members(states: Iterable[MemberState]) -> tuple[dict[str, Expected], frozenset[str]]:
    """The expected member per subscriber hash, and every managed tag name (lower-cased).

    Of the customers holding one address, the one that sent the payload and is newest speaks for it.
    An address whose holders only share it (the payload's sender was refused, or is gone) is not
    expected: no customer says what it should hold.
    """
    best: dict[str, MemberState] = {}
    managed_tags: set[str] = set()
    for state in states:
        managed_tags.update(tag_key(t) for t in state.managed_tags)
        if not state.subscriber_hash or not state.email or state.known_status in NO_MEMBER:
            continue
        held = best.get(state.subscriber_hash)
        if held is None or _speaks_before(state, held):
            best[state.subscriber_hash] = state
    expected = {
        digest: Expected(
            customer_key=s.customer_key,
            email=s.email or "",
            subscriber_hash=digest,
            status=s.known_status,
            tags=s.managed_tags,
            merge_fields=s.merge_fields if s.payload_hash is not None else None,
            archived_by_policy=not s.active and s.known_status in _REMOVED,
        )
        for digest, s in best.items()
        if s.payload_hash is not None
    }
    return expected, frozenset(managed_tags)


def _speaks_before(state: MemberState, held: MemberState) -> bool:
    rank = (state.payload_hash is not None, state.active, state.last_update is not None)
    held_rank = (held.payload_hash is not None, held.active, held.last_update is not None)
    if rank != held_rank:
        return rank > held_rank
    if state.last_update and held.last_update and state.last_update != held.last_update:
        return state.last_update > held.last_update
    return state.customer_key < held.customer_key


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


def _finding(expected: Expected, drift: DriftClass, detail: str, **parts: tuple[str, ...]) -> Finding:
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
    """The drift of one managed member as Mailchimp shows it."""
    if member.status == "archived":
        if expected.archived_by_policy:
            return []
        return [_finding(expected, DriftClass.ARCHIVED_BY_PERSON, "archived in Mailchimp")]
    if expected.archived_by_policy:
        detail = f"the tenant's policy archived it; Mailchimp shows it {member.status}"
        return [_finding(expected, DriftClass.STATUS_DIFFERS, detail)]
    findings: list[Finding] = []
    if expected.merge_fields is not None:
        values = expected.merge_fields.items()
        stale = tuple(sorted(k for k, v in values if not same_value(v, member.merge_fields.get(k))))
        if stale:
            findings.append(_finding(expected, DriftClass.STALE_MERGE_FIELDS, ", ".join(stale), fields=stale))
    findings += _tag_findings(expected, member, managed_tags)
    if member.email_address.strip() != expected.email:
        findings.append(_finding(expected, DriftClass.EMAIL_DIFFERS, f"shows {member.email_address}"))
    if expected.status and member.status != expected.status:
        detail = f"{expected.status} when last synced, now {member.status}"
        findings.append(_finding(expected, DriftClass.STATUS_DIFFERS, detail))
    return findings


def missing(expected: Expected) -> list[Finding]:
    """Mailchimp has no member for this hash: drift unless the policy archived or removed it."""
    if expected.archived_by_policy:
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
            if finding.drift in RATED:
                self.drifted.add(finding.subscriber_hash)

    @property
    def rate(self) -> float:
        """Managed members with drift (any rated class), as a share of the managed members."""
        return len(self.drifted) / self.managed if self.managed else 0.0

    def by_class(self) -> dict[str, int]:
        return {c.value: self.counts.get(c.value, 0) for c in DriftClass}
