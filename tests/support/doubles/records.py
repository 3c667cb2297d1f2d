"""Fusion customer rows for the doubles, by Oracle attribute name, with what a test rarely cares about."""

from datetime import datetime
from typing import Any

from oracle_mailchimp_dagster.fusion import FusionCustomer


def fusion_customer(party_id: int, email: str | None, updated: datetime, **attributes: Any) -> FusionCustomer:
    """An active customer `CUST-<party_id>` with a contact name; `attributes` are Oracle names."""
    row: dict[str, Any] = {
        "PartyId": party_id,
        "PartyNumber": f"CUST-{party_id}",
        "OrganizationName": f"Company {party_id}",
        "PrimaryContactName": f"Ada Lovelace{party_id}",
        "EmailAddress": email,
        "PartyStatus": "A",
        "Type": "ZCA_CUSTOMER",
        "CustomerClassCode": "RETAIL",
        "LastUpdateDate": updated,
        **attributes,
    }
    return FusionCustomer.model_validate(row)
