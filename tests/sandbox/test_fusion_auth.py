"""The identity stand-in and pod authentication, over real HTTP."""

import base64

import requests

from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from tests.fixtures.fusion import FusionSandboxFactory, fetch_fusion_token


def grant(
    running: RunningFusionSandbox,
    client: tuple[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> requests.Response:
    config = running.config
    auth = client if client is not None else (config.client_id, config.client_secret.get_secret_value())
    data = {"grant_type": "client_credentials", "scope": config.scope} if form is None else form
    return requests.post(running.token_url, auth=auth, data=data, timeout=10)


def accounts(running: RunningFusionSandbox, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(running.accounts_url, headers=headers or {}, params={"limit": 1}, timeout=10)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stats(running: RunningFusionSandbox) -> dict[str, object]:
    return dict(requests.get(running.control_url + "/stats", timeout=10).json())


def test_client_credentials_grant_returns_a_bearer_token(fusion_sandbox: RunningFusionSandbox) -> None:
    response = grant(fusion_sandbox)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"].split(".")) == 3
    assert accounts(fusion_sandbox, bearer(body["access_token"])).status_code == 200
    assert stats(fusion_sandbox)["token_grants"] == 1


def test_client_credentials_may_come_in_the_form(fusion_sandbox: RunningFusionSandbox) -> None:
    config = fusion_sandbox.config
    form = {
        "grant_type": "client_credentials",
        "scope": f"{config.scope} offline_access",
        "client_id": config.client_id,
        "client_secret": config.client_secret.get_secret_value(),
    }
    response = requests.post(fusion_sandbox.token_url, data=form, timeout=10)
    assert response.status_code == 200


def test_bad_client_secret_is_invalid_client(fusion_sandbox: RunningFusionSandbox) -> None:
    response = grant(fusion_sandbox, client=(fusion_sandbox.config.client_id, "wrong"))
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
    assert grant(fusion_sandbox, client=("someone-else", "x")).status_code == 401
    no_auth = requests.post(fusion_sandbox.token_url, data={"grant_type": "client_credentials"}, timeout=10)
    assert no_auth.status_code == 401
    assert stats(fusion_sandbox)["token_denials"] == 3
    assert stats(fusion_sandbox)["token_grants"] == 0


def test_wrong_or_missing_scope_is_invalid_scope(fusion_sandbox: RunningFusionSandbox) -> None:
    for scope in ("urn:opc:resource:consumer::all", "urn:opc:resource:fa:instanceid=1", ""):
        response = grant(fusion_sandbox, form={"grant_type": "client_credentials", "scope": scope})
        assert response.status_code == 400, scope
        assert response.json()["error"] == "invalid_scope"


def test_pod_url_audience_scope_is_accepted(fusion_sandbox: RunningFusionSandbox) -> None:
    scope = f"{fusion_sandbox.url}urn:opc:resource:consumer::all"
    assert grant(fusion_sandbox, form={"grant_type": "client_credentials", "scope": scope}).status_code == 200


def test_other_grant_types_are_unsupported(fusion_sandbox: RunningFusionSandbox) -> None:
    scope = fusion_sandbox.config.scope
    response = grant(fusion_sandbox, form={"grant_type": "password", "scope": scope})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert grant(fusion_sandbox, form={"scope": scope}).json()["error"] == "invalid_request"


def test_token_endpoint_wants_a_form(fusion_sandbox: RunningFusionSandbox) -> None:
    config = fusion_sandbox.config
    response = requests.post(
        fusion_sandbox.token_url,
        auth=(config.client_id, config.client_secret.get_secret_value()),
        json={"grant_type": "client_credentials", "scope": config.scope},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_missing_unknown_or_malformed_credentials_get_an_empty_401(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    for headers in (
        {},
        bearer("not-a-token"),
        {"Authorization": "Token abc"},
        {"Authorization": "Basic %%%"},
    ):
        response = accounts(fusion_sandbox, headers)
        assert response.status_code == 401, headers
        assert response.content == b""
        assert "WWW-Authenticate" not in response.headers
    assert stats(fusion_sandbox)["pod_unauthorized"] == 4


def test_json_401_switch_adds_a_body_and_challenge(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(unauthorized_json=True)
    response = accounts(running, bearer("stale"))
    assert response.status_code == 401
    assert response.json() == {"title": "Unauthorized", "status": "401"}
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_forced_expiry_of_one_token_leaves_others_valid(fusion_sandbox: RunningFusionSandbox) -> None:
    first, second = fetch_fusion_token(fusion_sandbox), fetch_fusion_token(fusion_sandbox)
    expired = requests.post(fusion_sandbox.control_url + "/tokens/expire", json={"token": first}, timeout=10)
    assert expired.json() == {"expired": 1}
    assert accounts(fusion_sandbox, bearer(first)).status_code == 401
    assert accounts(fusion_sandbox, bearer(second)).status_code == 200


def test_forced_expiry_of_all_tokens(fusion_sandbox: RunningFusionSandbox) -> None:
    tokens = [fetch_fusion_token(fusion_sandbox) for _ in range(3)]
    assert requests.post(fusion_sandbox.control_url + "/tokens/expire", json={}, timeout=10).json() == {
        "expired": 3
    }
    assert all(accounts(fusion_sandbox, bearer(t)).status_code == 401 for t in tokens)
    assert accounts(fusion_sandbox, bearer(fetch_fusion_token(fusion_sandbox))).status_code == 200


def test_tokens_expire_when_the_clock_passes_their_ttl(fusion_sandbox: RunningFusionSandbox) -> None:
    token = fetch_fusion_token(fusion_sandbox)
    clock = fusion_sandbox.control_url + "/clock"
    requests.post(clock, json={"advance_seconds": 3599}, timeout=10)
    assert accounts(fusion_sandbox, bearer(token)).status_code == 200
    requests.post(clock, json={"advance_seconds": 2}, timeout=10)
    assert accounts(fusion_sandbox, bearer(token)).status_code == 401
    assert stats(fusion_sandbox)["active_tokens"] == 0


def test_short_ttl_is_reported_and_enforced(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(token_ttl_seconds=60, clock_frozen=True)
    body = grant(running).json()
    assert body["expires_in"] == 60
    requests.post(running.control_url + "/clock", json={"advance_seconds": 60}, timeout=10)
    assert accounts(running, bearer(body["access_token"])).status_code == 401


def test_basic_auth_with_the_integration_user(fusion_sandbox: RunningFusionSandbox) -> None:
    config = fusion_sandbox.config
    user, password = config.basic_user, config.basic_password.get_secret_value()
    ok = requests.get(fusion_sandbox.accounts_url, auth=(user, password), params={"limit": 1}, timeout=10)
    assert ok.status_code == 200
    assert requests.get(fusion_sandbox.accounts_url, auth=(user, "nope"), timeout=10).status_code == 401
    assert stats(fusion_sandbox)["requests_by_user"] == {user: 1}


def test_basic_auth_can_be_switched_off(fusion_sandbox: RunningFusionSandbox) -> None:
    config = fusion_sandbox.config
    switched = requests.patch(
        fusion_sandbox.control_url + "/config", json={"basic_auth_enabled": False}, timeout=10
    )
    assert switched.json()["basic_auth_enabled"] is False
    header = base64.b64encode(
        f"{config.basic_user}:{config.basic_password.get_secret_value()}".encode()
    ).decode()
    assert accounts(fusion_sandbox, {"Authorization": f"Basic {header}"}).status_code == 401


def test_rotated_client_secret_rejects_the_old_one(fusion_sandbox: RunningFusionSandbox) -> None:
    old_secret = fusion_sandbox.config.client_secret.get_secret_value()
    requests.patch(fusion_sandbox.control_url + "/config", json={"client_secret": "rotated"}, timeout=10)
    assert grant(fusion_sandbox, client=(fusion_sandbox.config.client_id, old_secret)).status_code == 401
    assert grant(fusion_sandbox, client=(fusion_sandbox.config.client_id, "rotated")).status_code == 200


def test_secrets_never_leave_through_the_control_api(fusion_sandbox: RunningFusionSandbox) -> None:
    config = fusion_sandbox.config
    text = requests.get(fusion_sandbox.control_url + "/config", timeout=10).text
    assert config.client_secret.get_secret_value() not in text
    assert config.basic_password.get_secret_value() not in text
    assert config.client_secret.get_secret_value() not in repr(config)


def test_user_without_data_access_sees_no_rows(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(user_without_access=True)
    headers = bearer(fetch_fusion_token(running))
    body = accounts(running, headers).json()
    assert body["items"] == [] and body["count"] == 0 and body["hasMore"] is False
    item = requests.get(running.accounts_url + "/CDRM_100000", headers=headers, timeout=10)
    assert item.status_code == 404


def test_user_without_access_can_get_403_instead(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(user_without_access=True, forbidden_without_access=True)
    assert accounts(running, bearer(fetch_fusion_token(running))).status_code == 403
