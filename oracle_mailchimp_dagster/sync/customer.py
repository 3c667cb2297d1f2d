"""The customer as the sync rules read it: a typed, slotted record built once at the Oracle wire boundary.

The rules never see the wire format. Where a tenant's mapping names a source attribute, it has been
resolved to one of these field names first (see `tenants.mapping`), so the rules read `getattr`.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime

from oracle_mailchimp_dagster.sync.identity import customer_key, is_active


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer: identity, status, contact, primary address and the attributes tags are made of."""

    party_id: int
    last_update_date: datetime
    party_number: str | None = None
    party_status: str | None = None
    organization_name: str | None = None
    email_address: str | None = None
    primary_contact_name: str | None = None
    phone_country_code: str | None = None
    phone_area_code: str | None = None
    phone_number: str | None = None
    phone_extension: str | None = None
    formatted_phone_number: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_line3: str | None = None
    address_line4: str | None = None
    city: str | None = None
    state: str | None = None
    province: str | None = None
    postal_code: str | None = None
    country: str | None = None
    type: str | None = None
    customer_class_code: str | None = None
    creation_date: datetime | None = None
    # Derived once, from the fields above (see `sync.identity`).
    key: str = field(init=False, compare=False)
    active: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", customer_key(self.party_number, self.party_id))
        object.__setattr__(self, "active", is_active(self.party_status))

    def value(self, name: str) -> object:
        """The value of a source field by name (a mapping's resolved source)."""
        return getattr(self, name)

    @property
    def recency(self) -> tuple[float, int, str]:
        """Newest wins: by last update, then party id, then key (total, so ties are deterministic)."""
        return (self.last_update_date.timestamp(), self.party_id, self.key)


# The fields a mapping may read (everything but the derived identity).
SOURCE_FIELDS: frozenset[str] = frozenset(f.name for f in fields(Customer) if f.init)
