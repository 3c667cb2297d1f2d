"""Bulk tagging through static segments (`POST /lists/{id}/segments/{segment_id}`) as pure functions.

A tag is a static segment, so tagging thousands of members is a few calls of up to 500 addresses to
add and 500 to remove per segment, instead of one call per member. Here: grouping per-member changes
by tag, cutting them into calls, and reading each answer's per-address errors back.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from oracle_mailchimp_dagster.mailchimp.errors import ErrorKind, MailchimpProblem
from oracle_mailchimp_dagster.mailchimp.models import TagChange, tag_key
from oracle_mailchimp_dagster.mailchimp.problems import problem_from_segment_error

# Mailchimp takes at most 500 addresses in members_to_add, and 500 in members_to_remove, per call.
MAX_SEGMENT_MEMBERS = 500


@dataclass
class TagPlan:
    """Who gains and who loses each tag. Tags by `tag_key`, addresses lower-cased, each listed once."""

    names: dict[str, str] = field(default_factory=dict)  # tag key -> the name as first given
    additions: dict[str, list[str]] = field(default_factory=dict)
    removals: dict[str, list[str]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # lower-cased address -> the caller's key


def plan_tag_changes(changes: Mapping[str, TagChange]) -> TagPlan:
    """Group per-address changes by tag and direction; two keys naming one address are refused."""
    plan = TagPlan()
    for email, change in changes.items():
        address = email.strip().lower()
        if not address:
            raise ValueError("tag changes name an empty email address")
        if address in plan.owners:
            raise ValueError(f"tag changes name one address twice (case-insensitively): {email}")
        plan.owners[address] = email
        for names, target in ((change.add, plan.additions), (change.remove, plan.removals)):
            for key in dict.fromkeys(_keys(names, plan)):
                target.setdefault(key, []).append(address)
    return plan


def _keys(names: tuple[str, ...], plan: TagPlan) -> list[str]:
    keys = []
    for name in names:
        key = tag_key(name)
        plan.names.setdefault(key, name.strip())
        keys.append(key)
    return keys


@dataclass(frozen=True)
class SegmentCall:
    """One bulk change of one segment: at most MAX_SEGMENT_MEMBERS addresses each way."""

    tag: str
    segment_id: int
    add: tuple[str, ...]
    remove: tuple[str, ...]

    @property
    def addresses(self) -> tuple[str, ...]:
        return (*self.add, *self.remove)

    def body(self) -> dict[str, Any]:
        return {"members_to_add": list(self.add), "members_to_remove": list(self.remove)}


def segment_calls(
    plan: TagPlan, segment_ids: Mapping[str, int], size: int = MAX_SEGMENT_MEMBERS
) -> list[SegmentCall]:
    """The calls that carry out `plan`, additions and removals of one tag sharing calls.

    A tag without a segment id is skipped: removing a tag that does not exist is already done, and
    additions to a tag that could not be created are the caller's to report.
    """
    if not 1 <= size <= MAX_SEGMENT_MEMBERS:
        raise ValueError(f"a segment call holds 1 to {MAX_SEGMENT_MEMBERS} addresses each way")
    calls = []
    for tag in plan.names:
        segment_id = segment_ids.get(tag)
        if segment_id is None:
            continue
        adds = _chunks(plan.additions.get(tag, []), size)
        removes = _chunks(plan.removals.get(tag, []), size)
        for add, remove in zip_longest(adds, removes, fillvalue=()):
            calls.append(SegmentCall(tag, segment_id, tuple(add), tuple(remove)))
    return calls


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def segment_call_problems(call: SegmentCall, answer: Mapping[str, Any]) -> dict[str, MailchimpProblem]:
    """The problem of each address of `call` that Mailchimp listed in the answer's `errors`."""
    sent = set(call.addresses)
    problems: dict[str, MailchimpProblem] = {}
    entries = answer.get("errors")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping):
            continue
        problem = problem_from_segment_error(entry)
        addresses = entry.get("email_addresses")
        for email in addresses if isinstance(addresses, list) else ():
            address = str(email).strip().lower()
            if address in sent:
                problems.setdefault(address, problem)
    return problems


def deleted_tag_problem(tag: str) -> MailchimpProblem:
    """An addition to a tag deleted while tagging: retryable, the next run creates the tag again."""
    return MailchimpProblem(
        ErrorKind.RETRYABLE, "Tag Deleted", f"tag '{tag}' was deleted in Mailchimp while tagging", 404
    )
