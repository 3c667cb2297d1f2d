"""Customers for the pure tests, written as Oracle rows and built through the real wire boundary."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from oracle_mailchimp_dagster.fusion.records import FusionCustomer
from oracle_mailchimp_dagster.sync.customer import Customer

# The keyset fields every row has; a test row that does not care about them gets these.
_KEYSET_DEFAULTS = {"PartyId": 1, "LastUpdateDate": datetime(2026, 1, 1, tzinfo=UTC)}


def oracle_customer(attributes: Mapping[str, Any]) -> Customer:
    """The `Customer` the sync sees for an `accounts` row given by Oracle attribute names."""
    return FusionCustomer.model_validate({**_KEYSET_DEFAULTS, **attributes}).to_customer()


def oracle_customers(rows: list[dict[str, Any]]) -> list[Customer]:
    return [oracle_customer(row) for row in rows]
