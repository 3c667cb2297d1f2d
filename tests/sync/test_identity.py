"""Identity: the one definition of a customer key, being active, a member id and a credential name."""

from datetime import UTC, datetime

import pytest

from oracle_mailchimp_dagster.fusion.records import CUSTOMER_ATTRIBUTES, FusionCustomer
from oracle_mailchimp_dagster.sync.customer import SOURCE_FIELDS, Customer
from oracle_mailchimp_dagster.sync.identity import (
    credential_fingerprint,
    customer_key,
    is_active,
    subscriber_hash,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "active"),
    [
        *[("A", True), ("a", True), (" A ", True), (None, True), ("", True), ("  ", True)],
        *[("I", False), ("M", False), ("D", False), ("X", False)],
    ],
)
def test_is_active_reads_a_missing_status_as_active(status: str | None, active: bool) -> None:
    assert is_active(status) is active
    assert Customer(party_id=1, last_update_date=T0, party_status=status).active is active


def test_customer_key_is_the_party_number_else_the_party_id() -> None:
    assert customer_key("CDRM_7", 300) == "CDRM_7"
    assert customer_key(None, 300) == "PartyId:300"
    assert customer_key("  ", 300) == "PartyId:300"
    assert Customer(party_id=300, last_update_date=T0).key == "PartyId:300"


def test_subscriber_hash_is_mailchimps_member_id() -> None:
    assert subscriber_hash("Jane.Doe@Example.COM") == "0cba00ca3da1b283a57287bcceb17e35"


def test_credential_fingerprint_is_short_stable_and_not_the_secret() -> None:
    secret = "0123456789abcdef0123456789abcdef-us6"
    fingerprint = credential_fingerprint(secret)
    assert fingerprint == credential_fingerprint(secret) and len(fingerprint) == 16
    assert fingerprint != credential_fingerprint(secret + "x")
    assert secret[:8] not in fingerprint


def test_the_wire_record_becomes_the_customer_field_for_field() -> None:
    row: dict[str, object] = {oracle: f"v-{oracle}" for oracle in CUSTOMER_ATTRIBUTES}
    row.update(PartyId=5, LastUpdateDate="2026-01-01T00:00:00Z", CreationDate="2025-01-01T00:00:00Z")
    customer = FusionCustomer.model_validate(row).to_customer()
    assert set(CUSTOMER_ATTRIBUTES.values()) == SOURCE_FIELDS
    for oracle, name in CUSTOMER_ATTRIBUTES.items():
        if oracle not in ("PartyId", "LastUpdateDate", "CreationDate"):
            assert customer.value(name) == f"v-{oracle}"
    assert customer.key == "v-PartyNumber" and customer.party_id == 5
