"""Pure Mailchimp wire facts: key format and data center, base URLs, payload rules, merge fields."""

import pytest
from pydantic import SecretStr, ValidationError

from oracle_mailchimp_dagster.mailchimp import (
    AddressValue,
    MailchimpClient,
    MailchimpConfigurationError,
    MailchimpConnection,
    MemberChanges,
    MemberUpsert,
    MergeField,
    data_center,
    list_fields_by_tag,
)
from oracle_mailchimp_dagster.mailchimp.endpoints import MalformedApiKey, api_base_from_endpoint
from oracle_mailchimp_dagster.sync.model import ListField

KEY = "0123456789abcdef0123456789abcdef-us6"


def test_data_center_from_key_suffix() -> None:
    assert data_center(KEY) == "us6"
    client = MailchimpClient(MailchimpConnection(api_key=KEY))
    assert client.api_base == "https://us6.api.mailchimp.com/3.0"
    override = MailchimpClient(MailchimpConnection(api_key=KEY, api_base="http://127.0.0.1:9/3.0/"))
    assert override.api_base == "http://127.0.0.1:9/3.0"


@pytest.mark.parametrize(
    "bad",
    [
        "0123456789abcdef0123456789abcdef",
        "0123456789ABCDEF0123456789ABCDEF-us6",
        "0123456789abcdef0123456789abcde-us6",
        "0123456789abcdef0123456789abcdef-6",
        "not-a-key",
        # Padding is refused where it is entered; the data center must not quietly strip it either,
        # or the key that picks the host would differ from the one sent in the header.
        " 0123456789abcdef0123456789abcdef-us6",
        "0123456789abcdef0123456789abcdef-us6\n",
    ],
)
def test_malformed_key_is_rejected_without_echoing_it(bad: str) -> None:
    with pytest.raises(MalformedApiKey) as direct:
        data_center(bad)
    assert bad not in str(direct.value) and "data-center suffix" in str(direct.value)
    with pytest.raises(ValidationError) as validation:
        MailchimpConnection(api_key=bad)
    assert bad not in str(validation.value) and "malformed Mailchimp API key" in str(validation.value)


def test_client_rejects_malformed_key_before_any_call() -> None:
    connection = MailchimpConnection.model_construct(api_key=SecretStr("deadbeef-us1"), oauth_token=None)
    with pytest.raises(MailchimpConfigurationError) as error:
        MailchimpClient(connection)
    assert "deadbeef" not in str(error.value)


def test_connection_needs_exactly_one_credential_and_masks_it() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        MailchimpConnection()
    with pytest.raises(ValidationError, match="exactly one"):
        MailchimpConnection(api_key=KEY, oauth_token="tok")
    connection = MailchimpConnection(api_key=KEY)
    assert KEY not in repr(connection)
    assert KEY not in repr(MailchimpClient(connection))


def test_oauth_api_endpoint_gets_version_segment() -> None:
    assert api_base_from_endpoint("https://us1.api.mailchimp.com") == "https://us1.api.mailchimp.com/3.0"
    assert api_base_from_endpoint("http://127.0.0.1:8/3.0/") == "http://127.0.0.1:8/3.0"


def test_payload_never_resubscribes_by_accident() -> None:
    with pytest.raises(ValidationError, match="confirm_resubscribe"):
        MemberUpsert(email_address="a@acme.io", status_if_new="subscribed", status="subscribed")
    with pytest.raises(ValidationError, match="confirm_resubscribe"):
        MemberChanges(status="subscribed")
    explicit = MemberUpsert(
        email_address="a@acme.io", status_if_new="subscribed", status="subscribed", confirm_resubscribe=True
    )
    assert explicit.wire()["status"] == "subscribed" and "confirm_resubscribe" not in explicit.wire()


def test_payload_wire_omits_unset_fields_and_refuses_null_or_boolean_merge_values() -> None:
    member = MemberUpsert(
        email_address="Jane.Doe@acme.io",
        status_if_new="transactional",
        merge_fields={
            "FNAME": "Jane",
            "AGE": 42,
            "ADDRESS": AddressValue(addr1="1 Main St", city="Atlanta", state="GA", zip="30308", country="US"),
        },
    )
    assert member.wire() == {
        "email_address": "Jane.Doe@acme.io",
        "status_if_new": "transactional",
        "merge_fields": {
            "FNAME": "Jane",
            "AGE": 42,
            "ADDRESS": {
                "addr1": "1 Main St",
                "addr2": "",
                "city": "Atlanta",
                "state": "GA",
                "zip": "30308",
                "country": "US",
            },
        },
    }
    for bad in (None, True, ["x"]):
        with pytest.raises(ValidationError):
            MemberUpsert(email_address="a@acme.io", status_if_new="subscribed", merge_fields={"X": bad})
    with pytest.raises(ValidationError):
        AddressValue(addr1="1 Main St", city="", state="GA", zip="30308")


def test_member_changes_must_change_something() -> None:
    with pytest.raises(ValidationError, match="must change something"):
        MemberChanges()
    assert MemberChanges(email_address="new@acme.io").wire() == {"email_address": "new@acme.io"}


def test_merge_fields_become_the_planners_list_fields_by_tag() -> None:
    read = [
        {"merge_id": 1, "tag": "FNAME", "name": "First", "type": "text"},
        {
            "merge_id": 2,
            "tag": "SINCE",
            "name": "Since",
            "type": "date",
            "options": {"date_format": "MM/DD/YYYY"},
        },
        {
            "merge_id": 3,
            "tag": "TIER",
            "name": "Tier",
            "type": "dropdown",
            "required": True,
            "options": {"choices": ["Gold", "Silver"]},
        },
    ]
    fields = list_fields_by_tag(MergeField.model_validate(entry) for entry in read)
    assert fields == {
        "FNAME": ListField("FNAME", "text"),
        "SINCE": ListField("SINCE", "date", date_format="MM/DD/YYYY"),
        "TIER": ListField("TIER", "dropdown", required=True, choices=("Gold", "Silver")),
    }
