"""The customer record: Oracle's sample item parses, nulls are tolerated, timestamps are aware."""

from datetime import UTC, datetime

import orjson
import pytest
from pydantic import ValidationError

from oracle_mailchimp_dagster.fusion import CUSTOMER_FIELDS, FusionCustomer
from oracle_mailchimp_dagster.fusion.records import CustomerPage

SAMPLE = {
    "PartyId": 300000012345678,
    "PartyNumber": "CDRM_100245",
    "SourceSystem": None,
    "OrganizationName": "Acme Industrial Supply Inc.",
    "Type": "ZCA_CUSTOMER",
    "PrimaryContactName": "John Smith",
    "PartyStatus": "A",
    "CreationDate": "2024-03-11T09:14:22.118+00:00",
    "LastUpdateDate": "2025-01-05T17:02:41.507+00:00",
    "PhoneCountryCode": "1",
    "PhoneAreaCode": "650",
    "PhoneNumber": "5550100",
    "PhoneExtension": None,
    "FormattedPhoneNumber": "+1 (650) 555-0100",
    "EmailAddress": "ap@acme.example",
    "AddressLine1": "500 Oracle Parkway",
    "AddressLine2": None,
    "City": "Redwood Shores",
    "State": "CA",
    "Province": None,
    "PostalCode": "94065",
    "Country": "US",
    "links": [{"rel": "self", "href": "https://pod/accounts/CDRM_100245"}],
}


def test_sample_item_parses_to_typed_record() -> None:
    record = FusionCustomer.model_validate(SAMPLE)
    assert record.party_id == 300000012345678
    assert record.email_address == "ap@acme.example"
    assert record.last_update_date == datetime(2025, 1, 5, 17, 2, 41, 507000, tzinfo=UTC)
    assert record.creation_date is not None and record.creation_date.tzinfo is not None
    assert record.address_line2 is None and record.customer_class_code is None
    assert record.to_customer().active


def test_only_keyset_fields_are_required() -> None:
    record = FusionCustomer.model_validate({"PartyId": 1, "LastUpdateDate": "2025-01-05T17:02:41"})
    assert record.last_update_date.tzinfo is UTC
    assert record.email_address is None and record.to_customer().active  # a missing PartyStatus is active
    with pytest.raises(ValidationError):
        FusionCustomer.model_validate({"PartyId": 1, "LastUpdateDate": None})


def test_fields_list_names_every_attribute_by_its_oracle_name() -> None:
    assert CUSTOMER_FIELDS[0] == "PartyId"
    assert "LastUpdateDate" in CUSTOMER_FIELDS and "CustomerClassCode" in CUSTOMER_FIELDS
    assert len(CUSTOMER_FIELDS) == len(FusionCustomer.model_fields)
    assert all(name[0].isupper() for name in CUSTOMER_FIELDS)


def test_page_envelope_parses_from_json_bytes() -> None:
    body = orjson.dumps(
        {"items": [SAMPLE], "count": 1, "hasMore": True, "limit": 500, "offset": 0, "links": []}
    )
    page = CustomerPage.model_validate_json(body)
    assert page.has_more and page.count == 1 and page.items[0].party_number == "CDRM_100245"
