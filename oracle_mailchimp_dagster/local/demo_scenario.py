"""The demo's changes between its two runs, made the way a user would see them happen: through the
sandboxes' control APIs (Oracle records edited, a Mailchimp contact unsubscribing), never through the
connector. Each change says what the next run should do with it, so the demo can check itself.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.sandbox.runner import SandboxPair

NEW_CUSTOMER = {
    "OrganizationName": "Brand New Widgets GmbH",
    "EmailAddress": "hello@brandnew-widgets.io",
    "PartyStatus": "A",
    "Type": "ZCA_PROSPECT",
    "CustomerClassCode": "SMB",
}
RENAMED_COMPANY = "Renamed Trading Co"
UNSUBSCRIBER_COMPANY = "Changed After Unsubscribing Ltd"
CONTROL_TIMEOUT_S = 30.0


class DemoFailed(UserError):
    """The demo could not complete: one line for the user, exit status 1."""

    exit_code = 1


@dataclass(frozen=True)
class MemberExpectation:
    """How one audience member should look after the second run."""

    email: str
    status: str
    company: str | None = None


@dataclass(frozen=True)
class Change:
    """One change made before the second run, and what that run should record for it."""

    kind: str
    party_number: str
    expected_outcome: str
    members: tuple[MemberExpectation, ...]


class SandboxControl:
    """The sandboxes' `/__sandbox/` control routes the demo needs (the connector never uses them)."""

    def __init__(self, pair: SandboxPair, session: requests.Session) -> None:
        self.fusion = pair.fusion.url + "/__sandbox"
        self.mailchimp = pair.mailchimp.url + "/__sandbox"
        self.list_id = pair.mailchimp.config.list_id
        self.session = session

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.session.request(method, url, timeout=CONTROL_TIMEOUT_S, **kwargs)
        if response.status_code >= 300:
            try:
                reason = response.json().get("error", response.text)
            except ValueError:
                reason = response.text
            path = url.split("/__sandbox", 1)[-1]
            raise DemoFailed(
                f"the sandbox refused {method} /__sandbox{path}: {response.status_code} {reason}"
            )
        return response.json() if response.content else None

    def customers(self) -> list[dict[str, Any]]:
        return list(self._call("GET", self.fusion + "/customers", params={"limit": 100_000})["items"])

    def members(self) -> list[dict[str, Any]]:
        """Every member of the demo audience, archived ones included."""
        return list(self._call("GET", f"{self.mailchimp}/lists/{self.list_id}/members")["members"])

    def create_customer(self, values: dict[str, str]) -> str:
        return str(self._call("POST", self.fusion + "/customers", json=values)["PartyNumber"])

    def update_customer(self, party_number: str, values: dict[str, str]) -> None:
        self._call("PATCH", f"{self.fusion}/customers/{party_number}", json=values)

    def inactivate_customer(self, party_number: str) -> None:
        self._call("POST", f"{self.fusion}/customers/{party_number}/inactivate")

    def contact_unsubscribes(self, email: str) -> None:
        self._call("POST", f"{self.mailchimp}/lists/{self.list_id}/members/{email}/unsubscribe")


def _email(customer: dict[str, Any]) -> str:
    return str(customer.get("EmailAddress") or "").strip().lower()


def pick_customers(
    customers: Sequence[dict[str, Any]], members: Sequence[dict[str, Any]], count: int, status: str
) -> list[dict[str, Any]]:
    """Active customers with a company name whose address no other customer shares and whose member
    the first run created with `status`: each change then shows on exactly one member."""
    uses = Counter(_email(c) for c in customers)
    synced = {m["email_address"].lower() for m in members if m["status"] == status}
    chosen = [
        c
        for c in sorted(customers, key=lambda c: c["PartyId"])
        if c["PartyStatus"] == "A"
        and c.get("OrganizationName")
        and uses[_email(c)] == 1
        and _email(c) in synced
    ]
    if len(chosen) < count:
        raise DemoFailed(
            f"the sandbox has only {len(chosen)} customers the demo can change ({count} needed): "
            "run it with more --customers"
        )
    return chosen[:count]


def moved_address(email: str) -> str:
    """A new address for the email change: same mailbox, new domain (`a@b.example` -> `a@new-b.example`)."""
    mailbox, _, domain = email.partition("@")
    return f"{mailbox}@new-{domain}"


def make_changes(control: SandboxControl, status_if_new: str) -> list[Change]:
    """Create, rename, move, inactivate; and a contact unsubscribes in Mailchimp before Oracle changes it."""
    renamed, moved, inactive, unsubscriber = pick_customers(
        control.customers(), control.members(), 4, status_if_new
    )
    new_email = NEW_CUSTOMER["EmailAddress"]
    new_number = control.create_customer(NEW_CUSTOMER)

    control.update_customer(renamed["PartyNumber"], {"OrganizationName": RENAMED_COMPANY})

    old_email, new_address = _email(moved), moved_address(_email(moved))
    control.update_customer(moved["PartyNumber"], {"EmailAddress": new_address})

    control.inactivate_customer(inactive["PartyNumber"])

    control.contact_unsubscribes(_email(unsubscriber))
    control.update_customer(unsubscriber["PartyNumber"], {"OrganizationName": UNSUBSCRIBER_COMPANY})

    # Mailchimp changes the address of subscribed members only, so a transactional member that moved
    # is re-created at its new address and the old one archived; either way: no duplicate, no orphan.
    old_status = "archived"
    return [
        Change(
            "new customer",
            new_number,
            "created",
            (MemberExpectation(new_email, status_if_new, NEW_CUSTOMER["OrganizationName"]),),
        ),
        Change(
            "company renamed",
            renamed["PartyNumber"],
            "updated",
            (MemberExpectation(_email(renamed), status_if_new, RENAMED_COMPANY),),
        ),
        Change(
            "email address changed",
            moved["PartyNumber"],
            "email_changed",
            (
                MemberExpectation(new_address, status_if_new, moved["OrganizationName"]),
                MemberExpectation(old_email, old_status),
            ),
        ),
        Change(
            "inactivated in Oracle",
            inactive["PartyNumber"],
            "unsubscribed",
            (MemberExpectation(_email(inactive), "unsubscribed"),),
        ),
        Change(
            "unsubscribed in Mailchimp, then renamed in Oracle",
            unsubscriber["PartyNumber"],
            "updated",
            (MemberExpectation(_email(unsubscriber), "unsubscribed", UNSUBSCRIBER_COMPANY),),
        ),
    ]
