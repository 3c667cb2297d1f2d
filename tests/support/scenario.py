"""Pick customers with particular properties out of the sandbox's generated data."""

from collections import Counter
from typing import Any

from tests.support.expected import deliverable


def sole_holders(customers: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Active customers with a deliverable address no other customer uses."""
    uses = Counter((c.get("EmailAddress") or "").strip().lower() for c in customers)
    chosen = [
        c
        for c in customers
        if c["PartyStatus"] == "A"
        and deliverable(c.get("EmailAddress"))
        and uses[c["EmailAddress"].strip().lower()] == 1
    ]
    assert len(chosen) >= count
    return chosen[:count]
