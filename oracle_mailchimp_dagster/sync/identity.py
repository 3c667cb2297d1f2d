"""Who is who: the one definition of a customer key, of being active, of a member id, of a credential name.

Every layer that needs one of these asks here, so a customer, a member or a Mailchimp key is named the
same way in the planner, the store, the clients, run tags and limits.
"""

import hashlib

# A customer without a party number (Oracle requires one; a pod may still hide it) is keyed by its
# party id. The prefix is part of the stored key (member state, ledger), so it keeps its spelling.
_ID_KEY_PREFIX = "PartyId:"
# Oracle's party status codes: A(ctive), I(nactive), M(erged), D(eleted).
_ACTIVE_STATUS = "A"
_FINGERPRINT_SALT = b"oracle-mailchimp-pool:"


def customer_key(party_number: str | None, party_id: int | None) -> str:
    """The stable key of a customer: its party number, else its party id."""
    if party_number is not None and str(party_number).strip():
        return str(party_number)
    return f"{_ID_KEY_PREFIX}{party_id}"


def is_active(party_status: str | None) -> bool:
    """Status 'A' (any case) is active, and so is a missing status; 'I', 'M', 'D' and others are not.

    A missing status is read as active: removing members because a pod hid one attribute would be far
    worse than leaving an inactive customer's member until its status is seen (docs/DECISIONS.md).
    """
    if party_status is None or not party_status.strip():
        return True
    return party_status.strip().upper() == _ACTIVE_STATUS


def subscriber_hash(email: str) -> str:
    """MD5 of the lower-cased address: a member's id in its Mailchimp list."""
    return hashlib.md5(email.lower().encode("utf-8"), usedforsecurity=False).hexdigest()


def credential_fingerprint(secret: str) -> str:
    """A short, irreversible name for a credential (run tags, limiters, logs): never the credential."""
    return hashlib.sha256(_FINGERPRINT_SALT + secret.encode("utf-8")).hexdigest()[:16]
