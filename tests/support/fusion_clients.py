"""Helpers for Fusion client tests: clients on a sandbox, its control API, the expected customer set."""

from datetime import datetime
from typing import Any

import requests

from oracle_mailchimp_dagster.fusion import (
    FusionBasicAuth,
    FusionClient,
    FusionClientOptions,
    FusionConnection,
    FusionOAuth,
    TokenCache,
)
from oracle_mailchimp_dagster.sandbox.fusion import ACCOUNTS_PATH, RunningFusionSandbox
from tests.support.clients import FAST_RETRY, FAST_TIMEOUTS


def oauth_connection(
    sandbox: RunningFusionSandbox, framework_version: int = 2, **auth: Any
) -> FusionConnection:
    config = sandbox.config
    return FusionConnection(
        tenant="acme",
        base_url=sandbox.url,
        resource_path=ACCOUNTS_PATH,
        framework_version=framework_version,
        auth=FusionOAuth(
            token_url=auth.get("token_url", sandbox.token_url),
            client_id=auth.get("client_id", config.client_id),
            client_secret=auth.get("client_secret", config.client_secret),
            scope=auth.get("scope", config.scope),
        ),
    )


def basic_connection(sandbox: RunningFusionSandbox, password: str | None = None) -> FusionConnection:
    config = sandbox.config
    return FusionConnection(
        tenant="acme",
        base_url=sandbox.url,
        auth=FusionBasicAuth(
            username=config.basic_user,
            password=password or config.basic_password.get_secret_value(),
        ),
    )


def fusion_client(
    connection: FusionConnection,
    *,
    cache: TokenCache | None = None,
    hooks: tuple[Any, ...] = (),
    **options: Any,
) -> FusionClient:
    return FusionClient(
        connection,
        FusionClientOptions(**{"retry": FAST_RETRY, "timeouts": FAST_TIMEOUTS, **options}),
        token_cache=cache or TokenCache(),
        response_hooks=hooks,
    )


def control(sandbox: RunningFusionSandbox, method: str, path: str, **kwargs: Any) -> Any:
    response = requests.request(method, sandbox.control_url + path, timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def stats(sandbox: RunningFusionSandbox) -> dict[str, Any]:
    result: dict[str, Any] = control(sandbox, "GET", "/stats")
    return result


def sandbox_now(sandbox: RunningFusionSandbox) -> datetime:
    return datetime.fromisoformat(control(sandbox, "GET", "/clock")["now"])


def all_customers(sandbox: RunningFusionSandbox) -> dict[int, dict[str, Any]]:
    """Every customer the sandbox holds, by PartyId, straight from its control API."""
    body = control(sandbox, "GET", "/customers", params={"limit": 100_000})
    return {item["PartyId"]: item for item in body["items"]}


def ordered_keys(customers: dict[int, dict[str, Any]]) -> list[tuple[datetime, int]]:
    return sorted((datetime.fromisoformat(c["LastUpdateDate"]), pid) for pid, c in customers.items())


def malform(sandbox: RunningFusionSandbox, party_numbers: list[str], attribute: str, value: Any) -> None:
    """Make the pod send `value` (raw JSON, null included) for `attribute` in these customers' rows,
    until they are next written or the sandbox's malformed values are cleared."""
    control(
        sandbox,
        "POST",
        "/malform",
        json={"party_numbers": party_numbers, "attribute": attribute, "value": value},
    )
