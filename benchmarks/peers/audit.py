"""How right an audience is after one initial sync: its members against an independent expectation.

The expectation is tests/support/expected.py's (the one benchmarks/chaos.py checks against): one live
member per deliverable address an active customer holds, with the newest such customer's company and
its type/segment tags. Pure: the caller fetches customers and members from the sandboxes.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from tests.support.expected import expected_members

LIVE = frozenset({"subscribed", "transactional", "pending"})


def audience_check(customers: list[dict[str, Any]], members: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Counts: expected members, live members, right, missing, wrong company, wrong tags, unexpected.

    A member is right when it is live and has the expected COMPANY and exactly the expected tags; a
    member with both wrong counts once under wrong_company. Unexpected: live members no active
    customer should have produced.
    """
    expected = expected_members(customers)
    live = {str(m["email_address"]).lower(): m for m in members if m.get("status") in LIVE}
    right = missing = wrong_company = wrong_tags = 0
    for email, want in expected.items():
        member = live.get(email)
        if member is None:
            missing += 1
        elif (member.get("merge_fields") or {}).get("COMPANY", "") != want["company"][:255]:
            wrong_company += 1
        elif set(member.get("tags") or ()) != want["tags"]:
            wrong_tags += 1
        else:
            right += 1
    return {
        "expected": len(expected),
        "live_members": len(live),
        "right": right,
        "missing": missing,
        "wrong_company": wrong_company,
        "wrong_tags": wrong_tags,
        "unexpected": sum(1 for email in live if email not in expected),
    }
