"""Mapping one customer to a member: emails, type conversion, addresses, tags, mapping checks."""

from datetime import UTC, date, datetime

import pytest

from oracle_mailchimp_dagster.sync import mapping as rules
from oracle_mailchimp_dagster.sync.emails import email_problem, normalize_email
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.sync.mapping import InvalidRecord, payload_hash
from oracle_mailchimp_dagster.sync.model import ListField, MemberPayload
from oracle_mailchimp_dagster.sync.rules import SyncPolicy
from oracle_mailchimp_dagster.sync.values import ConversionError, convert_value
from oracle_mailchimp_dagster.sync.values import compose_address as compose
from oracle_mailchimp_dagster.tenants.mapping import FieldMapping, TagRule
from tests.support.customers import oracle_customer

FIELDS = {
    f.tag: f
    for f in [
        ListField("FNAME", "text"),
        ListField("LNAME", "text"),
        ListField("COMPANY", "text"),
        ListField("PHONE", "phone"),
        ListField("ADDRESS", "address"),
    ]
}
CUSTOMER = {
    "PartyNumber": "CDRM_1",
    "PartyId": 300000000000001,
    "OrganizationName": "  Acme   Industrial  ",
    "EmailAddress": " AP@Acme.IO ",
    "PrimaryContactName": "Mary Ann Smith",
    "FormattedPhoneNumber": "+1 (650) 555-0100",
    "AddressLine1": "500 Oracle Parkway",
    "AddressLine2": "Suite 4",
    "City": "Redwood Shores",
    "State": "CA",
    "PostalCode": "94065",
    "Country": "us",
    "Type": "ZCA_CUSTOMER",
    "CustomerClassCode": "ENTERPRISE",
    "PartyStatus": "A",
}


def map_customer(row: dict, mapping: FieldMapping, fields: dict, policy: SyncPolicy) -> MemberPayload:
    """The rule under test, fed an Oracle row through the wire boundary and the mapping's resolution."""
    return rules.map_customer(oracle_customer(row), mapping.resolve(), fields, policy)


def managed_tags(row: dict, mapping: FieldMapping) -> frozenset[str]:
    return rules.managed_tags(oracle_customer(row), mapping.resolve())


def compose_address(row: dict) -> dict[str, str] | None:
    return compose(oracle_customer(row))


def mapping_problems(mapping: FieldMapping, fields: dict) -> list[str]:
    return rules.mapping_problems(mapping.resolve(), fields)


def test_email_normalisation_and_hash_match_mailchimp() -> None:
    assert normalize_email("  Jane.Doe@Example.COM ") == "jane.doe@example.com"
    assert subscriber_hash("Jane.Doe@Example.COM") == "0cba00ca3da1b283a57287bcceb17e35"
    assert normalize_email("   ") is None
    assert normalize_email(None) is None


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        (None, "no email address"),
        ("no-at-sign.acme.io", "malformed email address"),
        ("two@@acme.io", "malformed email address"),
        ("a b@acme.io", "malformed email address"),
        ("x@localhost", "malformed email address"),
        ("x..y@acme.io", "malformed email address"),
        (".x@acme.io", "malformed email address"),
        ("müller@acme.io", "email address has non-ASCII characters"),
        ("ok.person+tag@sub.acme.io", None),
    ],
)
def test_email_problems(email: str | None, problem: str | None) -> None:
    assert email_problem(email) == problem


def test_map_customer_converts_every_field() -> None:
    payload = map_customer(CUSTOMER, FieldMapping(), FIELDS, SyncPolicy())
    assert payload.email == "ap@acme.io"
    assert payload.merge_fields == {
        "FNAME": "Mary Ann",
        "LNAME": "Smith",
        "COMPANY": "Acme Industrial",
        "PHONE": "+1 (650) 555-0100",
        "ADDRESS": {
            "addr1": "500 Oracle Parkway",
            "addr2": "Suite 4",
            "city": "Redwood Shores",
            "state": "CA",
            "zip": "94065",
            "country": "US",
        },
    }
    assert payload.tags == {"segment:ENTERPRISE", "type:customer"}
    assert None not in payload.merge_fields.values()


def test_incomplete_address_is_left_out_not_sent() -> None:
    record = {**CUSTOMER, "State": None, "Province": None}
    payload = map_customer(record, FieldMapping(), FIELDS, SyncPolicy())
    assert "ADDRESS" not in payload.merge_fields
    assert compose_address({**CUSTOMER, "State": None, "Province": "Ontario"}) is not None


def test_address_lines_are_trimmed_to_mailchimp_limit() -> None:
    address = compose_address({**CUSTOMER, "AddressLine1": "x" * 80})
    assert address is not None and len(address["addr1"]) == 45


def test_required_field_without_value_rejects_the_record() -> None:
    fields = {**FIELDS, "LNAME": ListField("LNAME", "text", required=True)}
    with pytest.raises(InvalidRecord, match="required merge field LNAME has no value"):
        map_customer({**CUSTOMER, "PrimaryContactName": "Cher"}, FieldMapping(), fields, SyncPolicy())


def test_unconvertible_optional_value_is_left_out_with_a_warning() -> None:
    fields = {**FIELDS, "SIZE": ListField("SIZE", "number")}
    mapping = FieldMapping(merge_fields={"SIZE": "CustomerClassCode"})
    payload = map_customer({**CUSTOMER, "CustomerClassCode": "lots"}, mapping, fields, SyncPolicy())
    assert "SIZE" not in payload.merge_fields
    assert payload.warnings == ("SIZE left out: 'lots' is not a number",)


def test_invalid_email_rejects_with_reason() -> None:
    with pytest.raises(InvalidRecord, match="no email address"):
        map_customer({**CUSTOMER, "EmailAddress": None}, FieldMapping(), FIELDS, SyncPolicy())


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        ("1,234", ListField("N", "number"), 1234),
        ("12.5", ListField("N", "number"), 12.5),
        (7, ListField("N", "number"), 7),
        (datetime(2024, 3, 9, 10, 0, tzinfo=UTC), ListField("D", "date"), "2024-03-09"),
        ("2024-03-09", ListField("D", "date", date_format="MM/DD/YYYY"), "03/09/2024"),
        (date(2024, 3, 9), ListField("D", "date", date_format="DD/MM/YYYY"), "09/03/2024"),
        (date(1990, 12, 31), ListField("B", "birthday"), "12/31"),
        ("  ", ListField("T", "text"), None),
        (None, ListField("T", "text"), None),
        ("Gold", ListField("R", "radio", choices=("Gold", "Silver")), "Gold"),
        ("Zürich  Straße", ListField("T", "text"), "Zürich Straße"),
    ],
)
def test_convert_value(value: object, field: ListField, expected: object) -> None:
    assert convert_value(value, field, 255) == expected


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (True, ListField("N", "number")),
        ("nan", ListField("N", "number")),
        ("soon", ListField("D", "date")),
        ("Bronze", ListField("R", "dropdown", choices=("Gold", "Silver"))),
        ("1 Main St", ListField("A", "address")),
    ],
)
def test_convert_value_refuses(value: object, field: ListField) -> None:
    with pytest.raises(ConversionError):
        convert_value(value, field, 255)


def test_text_is_trimmed_to_limit() -> None:
    assert convert_value("y" * 400, ListField("T", "text"), 255) == "y" * 255


def test_tag_rules_map_values_and_skip_blanks() -> None:
    mapping = FieldMapping(tag_rules=[TagRule(attribute="Type", values={"ZCA_PROSPECT": "prospect"})])
    assert managed_tags({"Type": "ZCA_PROSPECT"}, mapping) == {"prospect"}
    assert managed_tags({"Type": " "}, mapping) == frozenset()


def test_payload_hash_ignores_tag_order_and_sees_changes() -> None:
    a = map_customer(CUSTOMER, FieldMapping(), FIELDS, SyncPolicy())
    b = map_customer(dict(reversed(list(CUSTOMER.items()))), FieldMapping(), FIELDS, SyncPolicy())
    c = map_customer({**CUSTOMER, "City": "Austin"}, FieldMapping(), FIELDS, SyncPolicy())
    assert payload_hash(a, "subscribed") == payload_hash(b, "subscribed")
    assert payload_hash(a, "subscribed") != payload_hash(c, "subscribed")
    assert payload_hash(a, "subscribed") != payload_hash(a, "pending")


def test_mapping_problems_name_the_field() -> None:
    fields = {
        "FNAME": ListField("FNAME", "text"),
        "ADDRESS": ListField("ADDRESS", "text"),
        "VIP": ListField("VIP", "text", required=True),
    }
    mapping = FieldMapping(
        merge_fields={"FNAME": "OrganizationName", "ADDRESS": "@billing_address", "X": "City"}
    )
    assert mapping_problems(mapping, fields) == [
        "merge field ADDRESS is of type text but @billing_address needs an address field",
        "merge field X (mapped from City) does not exist in the list",
        "merge field VIP is required in the list but not mapped",
    ]
    assert mapping_problems(FieldMapping(), FIELDS) == []


@pytest.mark.parametrize("tag", ["lower", "TOOLONGTAG11", "BAD-TAG", ""])
def test_mapping_rejects_bad_merge_tags(tag: str) -> None:
    with pytest.raises(ValueError, match="merge tag"):
        FieldMapping(merge_fields={tag: "OrganizationName"})


def test_mapping_refuses_an_attribute_oracle_does_not_have() -> None:
    with pytest.raises(ValueError, match="merge tag SIZE: unknown Oracle attribute 'Employees'"):
        FieldMapping(merge_fields={"SIZE": "Employees"})
    with pytest.raises(ValueError, match="unknown Oracle attribute 'Segment'"):
        TagRule(attribute="Segment")


def test_resolution_names_customer_fields_and_keeps_the_tenants_label() -> None:
    resolved = FieldMapping(merge_fields={"COMPANY": "OrganizationName"}).resolve()
    assert resolved.merge_fields["COMPANY"].source == "organization_name"
    assert resolved.merge_fields["COMPANY"].label == "OrganizationName"
    assert [t.source for t in resolved.tags] == ["customer_class_code", "type"]


def test_mapping_rejects_unknown_derived_source() -> None:
    with pytest.raises(ValueError, match="unknown derived source '@nope'"):
        FieldMapping(merge_fields={"FNAME": "@nope"})
