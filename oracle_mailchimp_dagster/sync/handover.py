"""Shared addresses changing hands: who must be read again when the customer whose data a shared
member carries leaves that address.

Several customers may hold one address; the member carries the newest one's data. When that customer
moves to another address or becomes inactive, the member must take the data of the next newest
holder. That holder did not change in Oracle, so it is not in the run's batch: the run reads it again
by key, and the planner, seeing every holder, gives the member its data (and tags).
"""

from collections.abc import Iterable, Mapping

from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.emails import normalize_email
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.model import MemberState
from oracle_mailchimp_dagster.sync.state import NO_MEMBER


def _leaves(customer: Customer, state: MemberState) -> bool:
    """Whether this batch record takes the customer off the address its state holds."""
    if not customer.active:
        return True
    email = normalize_email(customer.email_address)
    return email is None or subscriber_hash(email) != state.subscriber_hash


def addresses_left(customers: Iterable[Customer], states: Mapping[str, MemberState]) -> set[str]:
    """Subscriber hashes whose writer (the customer whose data the member carries) the batch moves
    away or inactivates. Only the batch's own states are needed to tell."""
    left: set[str] = set()
    for customer in customers:
        state = states.get(customer.key)
        if state is None or not state.subscriber_hash or state.payload_hash is None:
            continue  # a customer that merely shares an address put nothing on it
        if state.known_status not in NO_MEMBER and _leaves(customer, state):
            left.add(state.subscriber_hash)
    return left


def holders_to_reread(customers: Iterable[Customer], states: Mapping[str, MemberState]) -> set[str]:
    """Keys of customers outside the batch who hold an address whose writer the batch moves away.

    `states` holds the batch's customers and everyone sharing the addresses they leave.
    """
    batch = {c.key: c for c in customers}
    left = addresses_left(batch.values(), states)
    return {
        s.customer_key
        for s in states.values()
        if s.subscriber_hash in left
        and s.customer_key not in batch
        and s.active
        and s.known_status not in NO_MEMBER
    }
