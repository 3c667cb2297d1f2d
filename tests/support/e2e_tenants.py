"""Tenants on a sandbox pair for the `dagster dev` tests: their configuration, extra audiences, and the
sandbox's own view of customers and members to check the result against.

Shared by the backfill and run-limit tests, so both build their tenants the same way.
"""

from typing import Any

import requests

from oracle_mailchimp_dagster.local.demo_workspace import DEMO_MAPPING
from oracle_mailchimp_dagster.sandbox.mailchimp.config import COMPANY_MERGE_FIELD
from oracle_mailchimp_dagster.sandbox.runner import SandboxPair
from oracle_mailchimp_dagster.tenants import MailchimpSettings, OracleSettings, TenantConfig


def tenant(tenant_id: str, list_id: str, pair: SandboxPair) -> TenantConfig:
    """A tenant reading the pair's Fusion and writing audience `list_id`, with the demo mapping."""
    fusion = pair.fusion
    return TenantConfig(
        id=tenant_id,
        oracle=OracleSettings(
            base_url=fusion.url,
            token_url=fusion.token_url,
            scope=fusion.config.scope,
            client_id=fusion.config.client_id,
        ),
        mailchimp=MailchimpSettings(list_id=list_id, api_base=pair.mailchimp.api_base),
        mapping=DEMO_MAPPING,
    )


def new_audience(pair: SandboxPair, name: str) -> str:
    """A new audience in the Mailchimp sandbox with the fields the mapping needs; its id."""
    response = requests.post(
        f"{pair.mailchimp.url}/__sandbox/lists",
        json={"name": name, "merge_fields": [COMPANY_MERGE_FIELD.model_dump()]},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def customers(pair: SandboxPair) -> list[dict[str, Any]]:
    """Every customer the Fusion sandbox holds (control API dump)."""
    response = requests.get(f"{pair.fusion.url}/__sandbox/customers", params={"limit": 100000}, timeout=30)
    return list(response.json()["items"])


def live_members(pair: SandboxPair, list_id: str) -> dict[str, dict[str, Any]]:
    """The list's members that are not archived, by lower-cased address (control API dump)."""
    body = requests.get(f"{pair.mailchimp.url}/__sandbox/lists/{list_id}/members", timeout=30).json()
    return {m["email_address"].lower(): m for m in body["members"] if m["status"] != "archived"}
