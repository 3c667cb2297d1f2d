"""Batch subscribe (`POST /lists/{id}`) as pure functions: the body to send, one outcome per member."""

from collections.abc import Mapping, Sequence
from typing import Any

from oracle_mailchimp_dagster.mailchimp.errors import MailchimpProblem
from oracle_mailchimp_dagster.mailchimp.models import MemberOutcome, MemberUpsert
from oracle_mailchimp_dagster.mailchimp.problems import problem_from_batch_error, retryable_problem

MAX_BATCH = 500


def batch_body(members: Sequence[MemberUpsert]) -> dict[str, Any]:
    """Upsert semantics: `update_existing` so existing members are updated, tags left alone."""
    if not members:
        raise ValueError("a batch needs at least one member")
    if len(members) > MAX_BATCH:
        raise ValueError(f"a batch holds at most {MAX_BATCH} members, got {len(members)}")
    seen: set[str] = set()
    for member in members:
        key = member.email_address.lower()
        if key in seen:
            raise ValueError(f"duplicate email address in one batch: {member.email_address}")
        seen.add(key)
    return {"members": [m.wire() for m in members], "update_existing": True, "sync_tags": False}


def batch_outcomes(members: Sequence[MemberUpsert], answer: Mapping[str, Any]) -> list[MemberOutcome]:
    """Match Mailchimp's created / updated / errors lists back to each sent member by lower-cased email.

    A member named in none of them gets a retryable "No Result" outcome: an upsert is idempotent,
    so sending it again is safe, and dropping it silently is not.
    """
    created = _by_email(answer.get("new_members"))
    updated = _by_email(answer.get("updated_members"))
    errors = _by_email(answer.get("errors"))
    outcomes = []
    for member in members:
        key = member.email_address.lower()
        if key in errors:
            outcome = MemberOutcome(
                member.email_address, "error", problem=problem_from_batch_error(errors[key])
            )
        elif key in created:
            outcome = _done(member, "created", created[key])
        elif key in updated:
            outcome = _done(member, "updated", updated[key])
        else:
            outcome = MemberOutcome(
                member.email_address,
                "error",
                problem=retryable_problem(
                    "No Result", detail="Mailchimp's answer did not mention this member"
                ),
            )
        outcomes.append(outcome)
    return outcomes


def failed_batch_outcomes(members: Sequence[MemberUpsert], problem: MailchimpProblem) -> list[MemberOutcome]:
    """Every member of a batch whose request failed as a whole shares that failure."""
    return [MemberOutcome(m.email_address, "error", problem=problem) for m in members]


def _done(member: MemberUpsert, result: str, entry: Mapping[str, Any]) -> MemberOutcome:
    status = entry.get("status")
    member_id = entry.get("id")
    return MemberOutcome(
        member.email_address,
        "created" if result == "created" else "updated",
        member_id=str(member_id) if member_id else None,
        status=str(status) if status else None,
    )


def _by_email(entries: Any) -> dict[str, Mapping[str, Any]]:
    if not isinstance(entries, list):
        return {}
    return {
        str(entry["email_address"]).lower(): entry
        for entry in entries
        if isinstance(entry, Mapping) and entry.get("email_address")
    }
