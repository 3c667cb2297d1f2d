"""What `tenants test` asks of the Fusion client: a token (or why not, typed) and a one-row query."""

import socket

import pytest

from oracle_mailchimp_dagster.fusion import FusionAuthError, FusionUnavailableError, TokenCache
from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from tests.fixtures.fusion import FusionSandboxFactory
from tests.support.fusion_clients import basic_connection, control, fusion_client, oauth_connection, stats


def closed_port_url() -> str:
    """A loopback URL nothing listens on (the port is bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/oauth2/v1/token"


def test_check_token_fetches_once_through_the_cache(fusion_sandbox: RunningFusionSandbox) -> None:
    cache = TokenCache()
    client = fusion_client(oauth_connection(fusion_sandbox), cache=cache)
    client.check_token()
    client.check_token()
    fusion_client(oauth_connection(fusion_sandbox), cache=cache).check_token()
    assert stats(fusion_sandbox)["token_grants"] == 1
    assert client.stats.get("token_fetches") == 1
    assert client.fetch_sample() == 1 and stats(fusion_sandbox)["token_grants"] == 1


def test_token_refusals_carry_status_and_oauth_error_but_no_secret(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    wrong = "Wr0ng-client-secret"
    with pytest.raises(FusionAuthError) as refused:
        fusion_client(oauth_connection(fusion_sandbox, client_secret=wrong)).check_token()
    assert (refused.value.status, refused.value.oauth_error) == (401, "invalid_client")
    assert "check the client id and client secret" in str(refused.value)
    assert wrong not in str(refused.value) and wrong not in repr(refused.value)
    assert wrong not in repr(vars(refused.value))

    with pytest.raises(FusionAuthError) as scope:
        fusion_client(oauth_connection(fusion_sandbox, scope="urn:opc:resource:consumer::all")).check_token()
    assert (scope.value.status, scope.value.oauth_error) == (400, "invalid_scope")
    assert "rejected scope" in str(scope.value)


def test_an_unreachable_or_failing_token_endpoint_is_unavailable_with_its_status(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    with pytest.raises(FusionUnavailableError) as unreachable:
        fusion_client(oauth_connection(fusion_sandbox, token_url=closed_port_url())).check_token()
    assert unreachable.value.status is None and "token endpoint: ConnectionError" in str(unreachable.value)

    control(
        fusion_sandbox, "POST", "/faults", json={"kind": "error", "status": 503, "path": "token", "times": 5}
    )
    with pytest.raises(FusionUnavailableError) as failing:
        fusion_client(oauth_connection(fusion_sandbox)).check_token()
    assert failing.value.status == 503 and failing.value.attempts == 5


def test_a_wrong_basic_password_is_an_auth_error_with_status_401(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    good = fusion_client(basic_connection(fusion_sandbox))
    good.check_token()
    assert stats(fusion_sandbox)["token_grants"] == 0, "Basic auth has no token to fetch"
    assert good.fetch_sample() == 1
    with pytest.raises(FusionAuthError) as refused:
        fusion_client(basic_connection(fusion_sandbox, password="wrong-pass")).fetch_sample()
    assert (refused.value.status, refused.value.oauth_error) == (401, None)


def test_fetch_sample_counts_the_rows_that_came_back(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    sandbox = fusion_sandbox_factory(customers=3)
    client = fusion_client(oauth_connection(sandbox))
    assert [client.fetch_sample(), client.fetch_sample(limit=2), client.fetch_sample(limit=10)] == [1, 2, 3]
    assert fusion_client(oauth_connection(fusion_sandbox_factory(customers=0))).fetch_sample() == 0
    with pytest.raises(ValueError, match="between 1 and 500"):
        client.fetch_sample(limit=0)
