"""Mailchimp sandbox: authentication forms, key errors, the data-centre check, the OAuth metadata stand-in."""

import base64
from collections.abc import Callable

import pytest
import requests

from oracle_mailchimp_dagster.sandbox.mailchimp import SANDBOX_OAUTH_TOKEN, RunningMailchimpSandbox
from tests.fixtures.mailchimp import BaseUrlSession, assert_problem
from tests.support.openapi_contract import attach_contract_check

OTHER_KEY = "0123456789abcdef0123456789abcdef-us6"


@pytest.fixture
def anonymous(mailchimp_sandbox: RunningMailchimpSandbox) -> BaseUrlSession:
    """A contract-checked session with no credentials."""
    session = BaseUrlSession(mailchimp_sandbox.api_base)
    attach_contract_check(session)
    return session


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda key: _basic("anystring", key), id="basic-any-user"),
        pytest.param(lambda key: _basic("", key), id="basic-empty-user"),
        pytest.param(lambda key: f"Bearer {key}", id="bearer-key"),
        pytest.param(lambda key: f"apikey {key}", id="apikey"),
        pytest.param(lambda key: f"OAuth {SANDBOX_OAUTH_TOKEN}", id="oauth-token"),
        pytest.param(lambda key: f"Bearer {SANDBOX_OAUTH_TOKEN}", id="bearer-token"),
    ],
)
def test_every_documented_authorization_form_is_accepted(
    anonymous: BaseUrlSession, mailchimp_sandbox: RunningMailchimpSandbox, header: Callable[[str], str]
) -> None:
    value = header(mailchimp_sandbox.config.api_key)
    response = anonymous.get("/ping", headers={"Authorization": value})
    assert response.status_code == 200
    assert response.json() == {"health_status": "Everything's Chimpy!"}
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_no_credentials_is_api_key_missing(anonymous: BaseUrlSession) -> None:
    assert_problem(anonymous.get("/ping"), 401, "API Key Missing", "Your request did not include an API key.")
    blank_password = anonymous.get("/ping", headers={"Authorization": _basic("anystring", "")})
    assert_problem(blank_password, 401, "API Key Missing")


@pytest.mark.parametrize(
    "header",
    [
        _basic("anystring", OTHER_KEY),  # well formed, not registered
        _basic("anystring", "not-a-key"),
        "Bearer 0123456789abcdef",
        "OAuth not-a-registered-token",
        "Basic %%%not-base64",
        "Digest username=x",
    ],
)
def test_unknown_or_malformed_credentials_are_api_key_invalid(anonymous: BaseUrlSession, header: str) -> None:
    assert_problem(
        anonymous.get("/ping", headers={"Authorization": header}),
        401,
        "API Key Invalid",
        "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
    )


def test_keys_can_be_registered_and_disabled_through_control(
    anonymous: BaseUrlSession, mailchimp_control: BaseUrlSession
) -> None:
    auth = {"Authorization": _basic("x", OTHER_KEY)}
    assert anonymous.get("/ping", headers=auth).status_code == 401
    assert mailchimp_control.post("/api-keys", json={"api_key": OTHER_KEY}).status_code == 200
    assert anonymous.get("/ping", headers=auth).status_code == 200
    listed = mailchimp_control.post("/api-keys", json={"api_key": OTHER_KEY, "disabled": True}).json()
    assert OTHER_KEY not in str(listed), "the control API must not echo secrets"
    assert_problem(anonymous.get("/ping", headers=auth), 401, "API Key Invalid", "API key has been disabled")
    bad = mailchimp_control.post("/api-keys", json={"api_key": "short-us1"})
    assert bad.status_code == 400


def test_wrong_datacenter_is_403_when_the_check_is_on(
    anonymous: BaseUrlSession, mailchimp_control: BaseUrlSession
) -> None:
    mailchimp_control.post("/api-keys", json={"api_key": OTHER_KEY})
    auth = {"Authorization": _basic("x", OTHER_KEY)}
    assert anonymous.get("/ping", headers=auth).status_code == 200, "the check is off by default"

    mailchimp_control.patch("/switches", json={"check_datacenter": True})
    assert_problem(
        anonymous.get("/ping", headers=auth),
        403,
        "Wrong Datacenter",
        "The API key provided is linked to a different data center.",
    )
    us6_host = anonymous.get("/ping", headers={**auth, "Host": "us6.api.mailchimp.com"})
    assert us6_host.status_code == 200, "the DC in the Host header wins when there is one"

    mailchimp_control.patch("/switches", json={"wrong_datacenter_status": 401})
    assert_problem(anonymous.get("/ping", headers=auth), 401, "API Key Invalid")


def test_oauth_metadata_points_a_client_at_this_server(
    mailchimp_sandbox: RunningMailchimpSandbox, anonymous: BaseUrlSession
) -> None:
    url = mailchimp_sandbox.oauth_metadata_url
    response = requests.get(url, headers={"Authorization": f"OAuth {SANDBOX_OAUTH_TOKEN}"}, timeout=10)
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["dc"] == "us21"
    assert metadata["api_endpoint"] == mailchimp_sandbox.url, "no /3.0 suffix, like the real one"
    assert metadata["accountname"] == mailchimp_sandbox.config.account_name
    assert metadata["login"]["login_email"] == mailchimp_sandbox.config.login_email
    ping = anonymous.get(
        metadata["api_endpoint"] + "/3.0/ping", headers={"Authorization": f"OAuth {SANDBOX_OAUTH_TOKEN}"}
    )
    assert ping.status_code == 200


def test_oauth_metadata_refuses_unknown_tokens_and_accepts_registered_ones(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_control: BaseUrlSession
) -> None:
    url = mailchimp_sandbox.oauth_metadata_url
    headers = {"Authorization": "OAuth 5f0c1d9e2b7a4c3d8e6f1a2b3c4d5e6f"}
    refused = requests.get(url, headers=headers, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert requests.get(url, timeout=10).status_code == 401

    assert mailchimp_control.post("/oauth-tokens", json={"token": "5f0c1d9e2b7a4c3d8e6f1a2b3c4d5e6f"}).ok
    assert requests.get(url, headers=headers, timeout=10).status_code == 200


def test_config_repr_does_not_show_credentials(mailchimp_sandbox: RunningMailchimpSandbox) -> None:
    shown = repr(mailchimp_sandbox.config)
    assert mailchimp_sandbox.config.api_key not in shown
    assert SANDBOX_OAUTH_TOKEN not in shown
