"""Shared addresses changing hands: who must be read again when the customer whose data a shared
member carries leaves that address.

Several customers may hold one address; the member carries the newest one's data. When that customer
moves to another address or becomes inactive, the member must take the data of the next newest
holder. That holder did not change in Oracle, so it is not in the run's batch: the run reads it again
by key, and the planner, seeing every holder, gives the member its data (and tags).
"""

from collections.abc import Container, Iterable, Mapping

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
    return holders_outside(states.values(), addresses_left(batch.values(), states), batch)


def holders_outside(holders: Iterable[MemberState], left: Container[str], in_run: Container[str]) -> set[str]:
    """Keys of the active holders of the addresses `left` (see `addresses_left`) that the run did not
    read: they must be read again by key. A run streamed in chunks collects `left` chunk by chunk
    and asks once, with the run's keys as `in_run`."""
    return {
        s.customer_key
        for s in holders
        if s.subscriber_hash in left
        and s.customer_key not in in_run
        and s.active
        and s.known_status not in NO_MEMBER
    }
