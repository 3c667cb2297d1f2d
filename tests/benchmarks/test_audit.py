"""benchmarks.peers.audit: an audience after a sync against the independent expectation."""

from typing import Any

from benchmarks.peers.audit import audience_check


def customer(number: int, email: str, company: str, **extra: Any) -> dict[str, Any]:
    values = {
        "PartyId": number,
        "PartyNumber": f"CDRM_{number}",
        "PartyStatus": "A",
        "EmailAddress": email,
        "OrganizationName": company,
        "Type": "ZCA_CUSTOMER",
        "CustomerClassCode": "SMB",
        "LastUpdateDate": "2026-01-01T00:00:00.000+00:00",
    }
    return {**values, **extra}


def member(email: str, company: str, tags: list[str], status: str = "subscribed") -> dict[str, Any]:
    return {"email_address": email, "status": status, "merge_fields": {"COMPANY": company}, "tags": tags}


def test_each_kind_of_difference_is_counted_once() -> None:
    customers = [
        customer(1, "a@acme.io", "Acme"),
        customer(2, "b@acme.io", "Bolt"),
        customer(3, "c@acme.io", "Cog"),
        customer(4, "d@acme.io", "Dent"),
        # The newer of two customers sharing an address decides the company.
        customer(5, "e@acme.io", "Old", LastUpdateDate="2025-01-01T00:00:00.000+00:00"),
        customer(6, "e@acme.io", "New"),
        customer(7, "gone@acme.io", "Gone", PartyStatus="I"),
        customer(8, "bad@example.com", "Fake domain"),
    ]
    tags = ["type:customer", "segment:SMB"]
    members = [
        member("a@acme.io", "Acme", tags),
        member("b@acme.io", "Bolt", ["type:customer"]),
        member("C@acme.io", "Wrong", tags),
        member("d@acme.io", "Dent", tags, status="unsubscribed"),
        member("e@acme.io", "Old", tags),
        member("gone@acme.io", "Gone", tags),
    ]
    assert audience_check(customers, members) == {
        "expected": 5,
        "live_members": 5,
        "right": 1,
        "missing": 1,
        "wrong_company": 2,
        "wrong_tags": 1,
        "unexpected": 1,
    }
