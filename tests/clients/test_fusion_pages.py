"""Reading a page body row by row: malformed rows are quarantined with a reason, never coerced; only an
unusable keyset value or envelope stops the read."""

from typing import Any

import orjson
import pytest

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.fusion import (
    FusionCustomer,
    FusionKeysetError,
    FusionResponseError,
    QuarantinedRow,
)
from oracle_mailchimp_dagster.fusion.pages import read_page

ROW = {
    "PartyId": 300000012345678,
    "PartyNumber": "CDRM_100245",
    "OrganizationName": "Acme Industrial Supply Inc.",
    "EmailAddress": "ap@acme.example",
    "PostalCode": "94065",
    "CreationDate": "2024-03-11T09:14:22.118+00:00",
    "LastUpdateDate": "2025-01-05T17:02:41.507+00:00",
}


def body(*items: Any, has_more: bool = False) -> bytes:
    return orjson.dumps({"items": list(items), "count": len(items), "hasMore": has_more})


def row(party_id: int, **changes: Any) -> dict[str, Any]:
    return {**ROW, "PartyId": party_id, "PartyNumber": f"CDRM_{party_id}", **changes}


def test_a_clean_page_reads_every_row_as_a_customer() -> None:
    page = read_page("acme", body(row(1), row(2), has_more=True))
    assert [r.party_id for r in page.customers] == [1, 2] and page.quarantined == []
    assert page.has_more


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"PostalCode": 94065}, "PostalCode: expected a string, got a number (94065)"),
        ({"PostalCode": 940.65}, "PostalCode: expected a string, got a number (940.65)"),
        (
            {"EmailAddress": ["ap@acme.example", "ar@acme.example"]},
            'EmailAddress: expected a string, got a list (["ap@acme.example","ar@acme.example"])',
        ),
        (
            {"OrganizationName": {"name": "Acme"}},
            'OrganizationName: expected a string, got an object ({"name":"Acme"})',
        ),
        ({"PartyStatus": True}, "PartyStatus: expected a string, got a boolean (true)"),
        (
            {"CreationDate": 1710148462},
            "CreationDate: expected an ISO 8601 timestamp, got a number (1710148462)",
        ),
        (
            {"CreationDate": "11/03/2024"},
            'CreationDate: expected an ISO 8601 timestamp, got a string ("11/03/2024")',
        ),
    ],
)
def test_a_malformed_row_is_quarantined_with_a_reason_naming_the_attribute(
    changes: dict[str, Any], reason: str
) -> None:
    page = read_page("acme", body(row(1), row(2, **changes), row(3)))
    assert [r.party_id for r in page.customers] == [1, 3]
    assert page.quarantined == [
        QuarantinedRow(2, page.customers[0].last_update_date, "CDRM_2", (next(iter(changes)),), reason)
    ]
    assert [r.party_id for r in page.rows] == [1, 2, 3], "rows keep the server's order"


def test_values_are_not_coerced() -> None:
    """Lax validation would read these as valid; strict reading quarantines them."""
    page = read_page("acme", body(row(1, City=12), row(2, PhoneNumber=5550100), row(3, Country=False)))
    assert page.customers == [] and [q.attributes for q in page.quarantined] == [
        ("City",),
        ("PhoneNumber",),
        ("Country",),
    ]


def test_a_long_value_is_cut_short_and_many_problems_are_counted() -> None:
    bad = row(1, OrganizationName={"name": "x" * 500}, City=1, State=2, Country=3, PartyNumber=100245)
    (quarantined,) = read_page("acme", body(bad)).quarantined
    assert quarantined.party_number is None, "a party number of the wrong type is not read"
    assert quarantined.attributes == ("PartyNumber", "OrganizationName", "City", "State", "Country")
    first, second, third, rest = quarantined.reason.split("; ")
    assert first == "PartyNumber: expected a string, got a number (100245)"
    quoted = second.split(", got an object (", 1)[1][:-1]
    assert len(quoted) == 60 and quoted.endswith("…")
    assert third == "City: expected a string, got a number (1)"
    assert rest == "and 2 more"


def test_an_integer_beyond_64_bits_is_still_described() -> None:
    content = body(row(1)).replace(b'"94065"', b"123456789012345678901234567890")
    (quarantined,) = read_page("acme", content).quarantined
    assert (
        quarantined.reason == "PostalCode: expected a string, got a number (123456789012345678901234567890)"
    )


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"PartyId": "abc"}, "PartyId", 'PartyId: expected an integer, got a string ("abc")'),
        ({"PartyId": "7"}, "PartyId", 'PartyId: expected an integer, got a string ("7")'),
        ({"PartyId": 7.5}, "PartyId", "PartyId: expected an integer, got a number (7.5)"),
        ({"PartyId": True}, "PartyId", "PartyId: expected an integer, got a boolean (true)"),
        (
            {"LastUpdateDate": None},
            "LastUpdateDate",
            "LastUpdateDate: expected an ISO 8601 timestamp, got null",
        ),
        (
            {"LastUpdateDate": "yesterday"},
            "LastUpdateDate",
            'LastUpdateDate: expected an ISO 8601 timestamp, got a string ("yesterday")',
        ),
    ],
)
def test_an_unusable_keyset_value_stops_the_read_naming_the_record(
    changes: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(FusionKeysetError) as raised:
        read_page("acme", body(row(1), row(2, City=5), {**ROW, "PartyNumber": "CDRM_3", **changes}))
    error = raised.value
    assert (error.index, error.party_number, error.field, error.problem) == (2, "CDRM_3", field, problem)
    assert str(error) == (
        f"Oracle Fusion tenant 'acme': customer row 2 of the page (PartyNumber CDRM_3) has an unusable "
        f"keyset value ({problem}), so the read stops there; fix that record in Oracle and run again"
    )
    assert isinstance(error, UserError) and isinstance(error, FusionResponseError)


def test_a_missing_key_or_a_row_that_is_no_object_stops_the_read() -> None:
    without_id = {k: v for k, v in ROW.items() if k != "PartyId"}
    with pytest.raises(
        FusionKeysetError, match=r"row 0 of the page \(PartyNumber CDRM_100245\) .*PartyId: missing"
    ):
        read_page("acme", body(without_id))
    with pytest.raises(
        FusionKeysetError, match=r"row 1 of the page has .*\(the row is a list \(\[1\]\), not an"
    ):
        read_page("acme", body(row(1), [1]))


def test_an_envelope_that_does_not_fit_is_a_response_error() -> None:
    for content in (
        b'{"items": [], "count": "0", "hasMore": false}',
        b'{"items": {}, "hasMore": false}',
        b"<html>",
    ):
        with pytest.raises(FusionResponseError, match="unexpected customer page") as raised:
            read_page("acme", content)
        assert not isinstance(raised.value, FusionKeysetError)


def test_a_valid_row_beside_a_quarantined_one_reads_as_in_a_clean_page() -> None:
    clean = read_page("acme", body(row(1))).customers[0]
    mixed = read_page("acme", body(row(1), row(2, City=5))).customers[0]
    assert isinstance(mixed, FusionCustomer) and mixed == clean
