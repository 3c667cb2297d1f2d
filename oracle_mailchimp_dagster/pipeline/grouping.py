"""Which customers must be planned together: all the holders of an address, across chunks.

The planner decides an address's writer among every run customer touching it: the one whose record
now has that address, and the one whose stored member state has it (an email change, an inactivation,
a shared address handed over). A chunk is therefore a union of whole *groups*, a group being the
customers linked through the addresses they touch:

- a customer touching one address (the usual case: new, unchanged, or an address it keeps) belongs
  to that address's group, found without looking at any other customer;
- a customer touching two (its record moved away from its stored address) is a *bridge*: both
  addresses' groups merge. Bridges are few (email changes), so they are joined in memory
  (`Bridges`, union-find over the bridged addresses only) and the customers touching a bridged
  address are regrouped under the merged group's root.

Group ids are hex digests, so a group's partition and its sub-chunk come from its own bits.
"""

import hashlib

from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.emails import normalize_email
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.model import MemberState

# One customer as the extract spools it: (address of its record, address of its stored state, record).
Spooled = tuple[str | None, str | None, Customer]


def record_address(customer: Customer) -> str | None:
    """The subscriber hash of the record's normalised email (the planner's address), if any."""
    email = normalize_email(customer.email_address)
    return subscriber_hash(email) if email else None


def spooled(customer: Customer, state: MemberState | None) -> Spooled:
    stored = state.subscriber_hash if state is not None and state.subscriber_hash else None
    return record_address(customer), stored, customer


def own_group(row: Spooled) -> str:
    """The group of a customer touching at most one address: that address, else one of its own."""
    new, stored, customer = row
    address = new or stored
    if address is not None:
        return address
    return hashlib.md5(b"\x00customer:" + customer.key.encode("utf-8"), usedforsecurity=False).hexdigest()


# A group id is 32 hex digits: four levels of 8 (the partition's, then the cuts of a partition).
LAST_LEVEL = 3


def bucket_of(group: str, buckets: int, *, level: int = 0) -> int:
    """A group's bucket among `buckets`; `level` picks other bits of the id (a partition's sub-chunk)."""
    start = 8 * level
    return int(group[start : start + 8], 16) % buckets


def is_bridge(row: Spooled) -> bool:
    new, stored, _ = row
    return new is not None and stored is not None and new != stored


class Bridges:
    """Union-find over the addresses bridge customers link; `roots()` maps each to its group's root."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._parent)

    def _find(self, address: str) -> str:
        parent = self._parent.setdefault(address, address)
        root = address
        while parent != root:
            root, parent = parent, self._parent[parent]
        while address != root:  # path compression
            following = self._parent[address]
            self._parent[address] = root
            address = following
        return root

    def link(self, a: str, b: str) -> None:
        root_a, root_b = self._find(a), self._find(b)
        if root_a != root_b:  # the smaller id is the root: the same groups whatever the order
            low, high = sorted((root_a, root_b))
            self._parent[high] = low

    def roots(self) -> dict[str, str]:
        return {address: self._find(address) for address in list(self._parent)}


def group_of(row: Spooled, bridged: dict[str, str]) -> str | None:
    """The merged group of a customer touching a bridged address, or None when it touches none."""
    new, stored, _ = row
    for address in (new, stored):
        if address is not None and address in bridged:
            return bridged[address]
    return None
