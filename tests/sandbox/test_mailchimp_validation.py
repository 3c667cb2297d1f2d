"""Mailchimp sandbox: request validation in Mailchimp's own words (reference §5.3, §6.3, §9.4)."""

from typing import Any

import pytest

from tests.fixtures.mailchimp import (
    BaseUrlSession,
    MailchimpHttp,
    assert_problem,
    field_errors,
    member_path,
    seed_members,
    upsert,
)

SCHEMA_DETAIL = (
    "The resource submitted could not be validated. For field-specific details, see the 'errors' array."
)
ANY_OF = "Data did not match any of the schemas described in anyOf."
ADDRESS = {"addr1": "1 Main St", "city": "Atlanta", "state": "GA", "zip": "30308"}


def add_field(http: MailchimpHttp, **body: Any) -> dict[str, Any]:
    response = http.post(f"/lists/{http.list_id}/merge-fields", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_body_that_is_not_json_is_a_json_parse_error(mailchimp_http: MailchimpHttp) -> None:
    path = member_path(mailchimp_http.list_id, "x@parse-errors.io")
    for raw in (b'{"email_address": ', b"", b"not json"):
        response = mailchimp_http.put(path, data=raw, headers={"Content-Type": "application/json"})
        assert_problem(response, 400, "JSON Parse Error", "We encountered an unspecified JSON parsing error.")


def test_missing_and_null_fields_are_schema_errors(mailchimp_http: MailchimpHttp) -> None:
    path = member_path(mailchimp_http.list_id, "x@schema-errors.io")
    response = mailchimp_http.put(path, json={"email_address": None, "status_if_new": "subscribed"})
    assert_problem(response, 400, "Invalid Resource", SCHEMA_DETAIL)
    assert field_errors(response) == [("email_address", "Schema describes string, NULL found instead")]

    response = mailchimp_http.post(f"/lists/{mailchimp_http.list_id}/members", json={"status": "subscribed"})
    assert field_errors(response) == [("", "Required fields were not provided: email_address")]

    body = [{"email_address": "x@schema-errors.io"}]
    response = mailchimp_http.put(path, json=body)
    assert field_errors(response) == [("", "Schema describes object, array found instead")]

    response = upsert(mailchimp_http, "x@schema-errors.io", vip="yes")
    assert field_errors(response) == [("vip", "Schema describes boolean, string found instead")]


@pytest.mark.parametrize("value", [None, True, ["Ann"], {"first": "Ann"}])
def test_merge_values_must_be_strings_or_numbers(mailchimp_http: MailchimpHttp, value: Any) -> None:
    response = upsert(mailchimp_http, "ann@merge-types.io", merge_fields={"FNAME": value, "LNAME": "ok"})
    assert_problem(response, 400, "Invalid Resource", SCHEMA_DETAIL)
    assert field_errors(response) == [("merge_fields.FNAME", ANY_OF)]


def test_status_must_be_one_of_the_endpoint_values(mailchimp_http: MailchimpHttp) -> None:
    response = upsert(mailchimp_http, "s@status-enum.io", status_if_new="active")
    assert field_errors(response) == [
        (
            "status_if_new",
            "Data presented is not one of the accepted values: subscribed, unsubscribed, cleaned, pending, "
            "transactional.",
        )
    ]
    upsert(mailchimp_http, "s@status-enum.io")
    patch = mailchimp_http.patch(member_path(mailchimp_http.list_id, "s@status-enum.io"), json={"status": ""})
    assert field_errors(patch) == [
        (
            "status",
            "Data presented is not one of the accepted values: subscribed, unsubscribed, cleaned, pending.",
        )
    ]


def test_put_for_a_new_contact_needs_a_status(mailchimp_http: MailchimpHttp) -> None:
    path = member_path(mailchimp_http.list_id, "nostatus@status-enum.io")
    response = mailchimp_http.put(path, json={"email_address": "nostatus@status-enum.io"})
    assert field_errors(response) == [("", "Required fields were not provided: status_if_new")]
    with_status = mailchimp_http.put(
        path, json={"email_address": "nostatus@status-enum.io", "status": "pending"}
    )
    assert with_status.json()["status"] == "pending", "status stands in when status_if_new is absent"


@pytest.mark.parametrize(
    "email", ["plainaddress", "two@@signs.io", "no-tld@host", "space in@domain.io", "@x.io"]
)
def test_bad_address_syntax_is_refused(mailchimp_http: MailchimpHttp, email: str) -> None:
    response = mailchimp_http.post(
        f"/lists/{mailchimp_http.list_id}/members", json={"email_address": email, "status": "subscribed"}
    )
    assert_problem(response, 400, "Invalid Resource", "Please provide a valid email address.")


@pytest.mark.parametrize(
    "email",
    [
        "fooboo@example.com",
        "john.doe@acme.io",
        "anyone@mail.test.com",
        "test@gmail.com",
        "ann@company.test",
    ],
)
def test_fake_looking_addresses_are_refused(mailchimp_http: MailchimpHttp, email: str) -> None:
    assert_problem(
        upsert(mailchimp_http, email),
        400,
        "Invalid Resource",
        f"{email} looks fake or invalid, please enter a real email address.",
    )


@pytest.mark.parametrize(
    "email",
    [
        "ana.garcia@globex-industries.com",
        "billing@initech.co.uk",
        "j.smith@contoso.net",
        "li.wei@umbrella.cn",
    ],
)
def test_realistic_addresses_pass(mailchimp_http: MailchimpHttp, email: str) -> None:
    assert upsert(mailchimp_http, email).status_code == 200


def test_the_fake_address_deny_list_is_a_switch(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    mailchimp_control.patch("/switches", json={"fake_domains": ["Initech.com"], "fake_local_parts": []})
    assert upsert(mailchimp_http, "test@globex.io").status_code == 200
    assert_problem(upsert(mailchimp_http, "peter@initech.com"), 400, "Invalid Resource")


def test_signup_velocity_list(mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession) -> None:
    mailchimp_control.patch("/switches", json={"signup_velocity_emails": ["Busy@Signups.io"]})
    assert_problem(
        upsert(mailchimp_http, "busy@signups.io"),
        400,
        "Invalid Resource",
        "busy@signups.io has signed up to a lot of lists very recently; "
        "we're not allowing more signups for now",
    )


def test_required_fields_on_create_and_on_update_when_stored_empty(mailchimp_http: MailchimpHttp) -> None:
    add_field(mailchimp_http, tag="CUSTNO", name="Customer number", type="text", required=True)
    missing = upsert(mailchimp_http, "req@required.io")
    assert_problem(missing, 400, "Invalid Resource", "Your merge fields were invalid.")
    assert field_errors(missing) == [("CUSTNO", "Please enter a value")]
    assert field_errors(upsert(mailchimp_http, "req@required.io", merge_fields={"CUSTNO": ""})) == [
        ("CUSTNO", "Please enter a value")
    ]

    skipped = mailchimp_http.put(
        member_path(mailchimp_http.list_id, "req@required.io"),
        params={"skip_merge_validation": "true"},
        json={"email_address": "req@required.io", "status_if_new": "subscribed"},
    )
    assert skipped.status_code == 200, "skip_merge_validation bypasses the required check"
    update = upsert(mailchimp_http, "req@required.io", merge_fields={"FNAME": "R"})
    assert field_errors(update) == [("CUSTNO", "Please enter a value")], "stored value is empty too"

    assert upsert(mailchimp_http, "req@required.io", merge_fields={"CUSTNO": "C-1"}).status_code == 200
    assert upsert(mailchimp_http, "req@required.io", merge_fields={"FNAME": "Q"}).status_code == 200


def test_address_is_all_or_nothing(mailchimp_http: MailchimpHttp) -> None:
    email = "addr@addresses.io"
    partial = upsert(
        mailchimp_http, email, merge_fields={"ADDRESS": {"addr1": "1 Main St", "city": "Atlanta"}}
    )
    assert_problem(partial, 400, "Invalid Resource", "Your merge fields were invalid.")
    assert field_errors(partial) == [("ADDRESS", "Please enter a complete address")]
    wrong_keys = {"address1": "1 Main St", "city": "Atlanta", "state": "GA", "postal_code": "30308"}
    assert field_errors(upsert(mailchimp_http, email, merge_fields={"ADDRESS": wrong_keys})) == [
        ("ADDRESS", "Please enter a complete address")
    ]
    as_string = upsert(mailchimp_http, email, merge_fields={"ADDRESS": "1 Main St, Atlanta"})
    assert field_errors(as_string) == [("ADDRESS", "Please enter a complete address")]
    skip = mailchimp_http.put(
        member_path(mailchimp_http.list_id, email),
        params={"skip_merge_validation": "true"},
        json={
            "email_address": email,
            "status_if_new": "subscribed",
            "merge_fields": {"ADDRESS": {"addr1": "x"}},
        },
    )
    assert field_errors(skip) == [("ADDRESS", "Please enter a complete address")], (
        "only `required` is skipped"
    )

    complete = upsert(mailchimp_http, email, merge_fields={"ADDRESS": ADDRESS})
    assert complete.json()["merge_fields"]["ADDRESS"] == {**ADDRESS, "addr2": "", "country": "US"}
    cleared = upsert(mailchimp_http, email, merge_fields={"ADDRESS": ""})
    assert cleared.json()["merge_fields"]["ADDRESS"] == "", "an empty string clears the field"


def test_an_incomplete_stored_address_fails_unrelated_updates(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    email = "legacy@addresses.io"
    seed_members(
        mailchimp_control,
        mailchimp_http.list_id,
        {"email_address": email, "merge_fields": {"ADDRESS": {"addr1": "1 Main St", "city": "Atlanta"}}},
    )
    response = upsert(mailchimp_http, email, merge_fields={"FNAME": "Lee"})
    assert_problem(response, 400, "Invalid Resource", "Your merge fields were invalid.")
    assert field_errors(response) == [("ADDRESS", "Please enter a complete address")]
    fixed = upsert(mailchimp_http, email, merge_fields={"FNAME": "Lee", "ADDRESS": ADDRESS})
    assert fixed.status_code == 200


def test_typed_merge_fields(mailchimp_http: MailchimpHttp) -> None:
    add_field(mailchimp_http, tag="SEATS", name="Seats", type="number")
    add_field(
        mailchimp_http, tag="SINCE", name="Customer since", type="date", options={"date_format": "MM/DD/YYYY"}
    )
    add_field(
        mailchimp_http, tag="TIER", name="Tier", type="dropdown", options={"choices": ["Gold", "Silver"]}
    )
    email = "typed@merge-types.io"
    bad = upsert(
        mailchimp_http,
        email,
        merge_fields={"SEATS": "lots", "SINCE": "2024-01-31", "TIER": "Bronze", "BIRTHDAY": "31/12"},
    )
    assert_problem(bad, 400, "Invalid Resource", "Your merge fields were invalid.")
    assert sorted(field_errors(bad)) == [
        ("BIRTHDAY", "Please enter a month (01-12) and a day (01-31)"),
        ("SEATS", "Please enter a number"),
        ("SINCE", "Please enter the date"),
        ("TIER", "Please choose one of the available options"),
    ]
    good = upsert(
        mailchimp_http,
        email,
        merge_fields={
            "SEATS": "12",
            "SINCE": "01/31/2024",
            "TIER": "Gold",
            "BIRTHDAY": "12/31",
            "UNKNOWN": "x",
        },
    )
    assert good.status_code == 200
    fields = good.json()["merge_fields"]
    assert (fields["SEATS"], fields["SINCE"], fields["TIER"], fields["BIRTHDAY"]) == (
        12,
        "01/31/2024",
        "Gold",
        "12/31",
    )
    assert "UNKNOWN" not in fields, "unknown merge tags are ignored"


def test_long_text_is_truncated_or_refused_by_switch(
    mailchimp_http: MailchimpHttp, mailchimp_control: BaseUrlSession
) -> None:
    long_name = "N" * 300
    truncated = upsert(mailchimp_http, "long@texts.io", merge_fields={"FNAME": long_name})
    assert truncated.json()["merge_fields"]["FNAME"] == "N" * 255
    mailchimp_control.patch("/switches", json={"text_too_long": "error", "text_max_len": 100})
    refused = upsert(mailchimp_http, "long@texts.io", merge_fields={"FNAME": long_name})
    assert_problem(refused, 400, "Invalid Resource", "Your merge fields were invalid.")
    assert field_errors(refused)[0][0] == "FNAME"


def test_merge_field_endpoints(mailchimp_http: MailchimpHttp) -> None:
    base = f"/lists/{mailchimp_http.list_id}/merge-fields"
    listed = mailchimp_http.get(base, params={"count": 1000}).json()
    tags = ["FNAME", "LNAME", "ADDRESS", "PHONE", "BIRTHDAY", "COMPANY"]
    assert [f["tag"] for f in listed["merge_fields"]] == tags
    assert listed["total_items"] == 6
    address = next(f for f in listed["merge_fields"] if f["tag"] == "ADDRESS")
    assert address["type"] == "address" and address["options"]["default_country"] == 164
    company = next(f for f in listed["merge_fields"] if f["tag"] == "COMPANY")
    assert (company["type"], company["required"]) == ("text", False), (
        "the connector maps OrganizationName here"
    )

    created = add_field(mailchimp_http, tag="acct_no", name="Account number", type="text")
    assert created["tag"] == "ACCT_NO", "tags are upper-cased"
    one = mailchimp_http.get(f"{base}/{created['merge_id']}").json()
    assert one == created
    patched = mailchimp_http.patch(
        f"{base}/{created['merge_id']}", json={"name": "Employer", "required": True}
    )
    assert (patched.json()["name"], patched.json()["required"]) == ("Employer", True)
    assert [
        f["tag"] for f in mailchimp_http.get(base, params={"required": "true"}).json()["merge_fields"]
    ] == ["ACCT_NO"]
    assert [
        f["tag"] for f in mailchimp_http.get(base, params={"type": "address"}).json()["merge_fields"]
    ] == ["ADDRESS"]
    auto = add_field(mailchimp_http, name="No tag given", type="zip")
    assert auto["tag"] == f"MMERGE{auto['merge_id']}"

    assert mailchimp_http.delete(f"{base}/{created['merge_id']}").status_code == 204
    assert_problem(mailchimp_http.get(f"{base}/{created['merge_id']}"), 404, "Resource Not Found")
    assert_problem(mailchimp_http.get(f"{base}/not-a-number"), 404, "Resource Not Found")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"tag": "TOOLONGTAG11", "name": "x", "type": "text"}, SCHEMA_DETAIL),
        (
            {"tag": "FNAME", "name": "x", "type": "text"},
            'A Merge Field with the tag "FNAME" already exists for this list.',
        ),
        ({"tag": "EMAIL", "name": "x", "type": "text"}, SCHEMA_DETAIL),
        ({"name": "x", "type": "colour"}, SCHEMA_DETAIL),
        ({"type": "text"}, SCHEMA_DETAIL),
    ],
)
def test_merge_field_creation_is_validated(
    mailchimp_http: MailchimpHttp, body: dict[str, Any], detail: str
) -> None:
    response = mailchimp_http.post(f"/lists/{mailchimp_http.list_id}/merge-fields", json=body)
    assert_problem(response, 400, "Invalid Resource", detail)
