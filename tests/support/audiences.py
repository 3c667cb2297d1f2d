"""More than one audience in one running Mailchimp sandbox: create one, dump one, and check one against
what Oracle says (`assert_audience_matches` reads the `Audience` protocol of `tests.support.expected`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from oracle_mailchimp_dagster.sandbox.mailchimp import RunningMailchimpSandbox
from oracle_mailchimp_dagster.sandbox.mailchimp.config import COMPANY_MERGE_FIELD


def add_audience(mailchimp: RunningMailchimpSandbox, name: str) -> str:
    """A new audience with the fields the company mapping needs; its id."""
    response = requests.post(
        f"{mailchimp.control_url}/lists",
        json={"name": name, "merge_fields": [COMPANY_MERGE_FIELD.model_dump()]},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def audience_dump(mailchimp: RunningMailchimpSandbox, list_id: str) -> dict[str, Any]:
    """Everything the sandbox stores for the audience: members (archived too), tombstones, segments."""
    response = requests.get(f"{mailchimp.control_url}/lists/{list_id}/members", timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def members_by_email(mailchimp: RunningMailchimpSandbox, list_id: str) -> dict[str, dict[str, Any]]:
    """Every member of the audience, by lower-cased address."""
    return {m["email_address"].lower(): m for m in audience_dump(mailchimp, list_id)["members"]}


@dataclass(frozen=True)
class AudienceView:
    """One audience of the sandbox, with Oracle's customers, as `assert_audience_matches` reads them."""

    mailchimp: RunningMailchimpSandbox
    list_id: str
    customers: Callable[[], list[dict[str, Any]]]

    def members(self) -> dict[str, dict[str, Any]]:
        return members_by_email(self.mailchimp, self.list_id)
