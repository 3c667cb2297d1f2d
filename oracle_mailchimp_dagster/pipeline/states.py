"""The stored member states a batch of customers is planned against."""

from collections.abc import Sequence

from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.emails import normalize_email
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.model import MemberState


def load_states(store: SyncStore, tenant_id: str, customers: Sequence[Customer]) -> dict[str, MemberState]:
    """Last synced state of the batch's customers and of every customer sharing one of their addresses."""
    stored = store.members.by_keys(tenant_id, [c.key for c in customers])
    hashes = {m.subscriber_hash for m in stored.values() if m.subscriber_hash}
    for customer in customers:
        email = normalize_email(customer.email_address)
        if email:
            hashes.add(subscriber_hash(email))
    for member in store.members.by_subscriber_hashes(tenant_id, hashes):
        stored.setdefault(member.customer_key, member)
    return stored
