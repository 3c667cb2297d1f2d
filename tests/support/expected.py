"""An independent statement of what the audience should be, computed from the sandbox's customers.

Deliberately written without the connector's sync code: simple rules a reviewer can check by eye.
"""

import re
from typing import Any, Protocol

# Addresses the Mailchimp sandbox refuses as fake (its default deny-list), and plain syntax.
FAKE_DOMAINS = {"example.com", "example.net", "example.org", "test.com", "fake.com", "mailinator.com"}
FAKE_MAILBOXES = {"john.doe", "test", "fake", "asdf", "noemail"}
SYNTAX = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


def deliverable(email: str | None) -> bool:
    if not email or not email.isascii() or not SYNTAX.match(email.strip().lower()) or ".." in email:
        return False
    mailbox, domain = email.strip().lower().split("@")
    return domain not in FAKE_DOMAINS and mailbox not in FAKE_MAILBOXES


def expected_members(customers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Address -> {company, tags} for every address an active customer holds; newest customer wins."""
    newest: dict[str, dict[str, Any]] = {}
    for customer in customers:
        email = (customer.get("EmailAddress") or "").strip().lower()
        if customer["PartyStatus"] != "A" or not deliverable(email):
            continue
        known = newest.get(email)
        if known is None or (customer["LastUpdateDate"], customer["PartyId"]) > (
            known["LastUpdateDate"],
            known["PartyId"],
        ):
            newest[email] = customer
    expected = {}
    for email, customer in newest.items():
        tags = {"type:" + {"ZCA_CUSTOMER": "customer", "ZCA_PROSPECT": "prospect"}[customer["Type"]]}
        if customer.get("CustomerClassCode"):
            tags.add("segment:" + customer["CustomerClassCode"])
        company = " ".join((customer.get("OrganizationName") or "").split())
        expected[email] = {"company": company, "tags": tags, "party_number": customer["PartyNumber"]}
    return expected


class Audience(Protocol):
    """What `assert_audience_matches` reads: the sandbox's customers and the audience's members."""

    def customers(self) -> list[dict[str, Any]]: ...

    def members(self) -> dict[str, dict[str, Any]]: ...


def assert_audience_matches(harness: Audience) -> None:
    """The live (not archived) members are exactly the expected addresses, with company and tags."""
    expected = expected_members(harness.customers())
    members = {e: m for e, m in harness.members().items() if m["status"] != "archived"}
    assert set(members) == set(expected)
    for email, want in expected.items():
        member = members[email]
        assert member["merge_fields"].get("COMPANY", "") == want["company"][:255], email
        assert set(member["tags"]) == want["tags"], email
