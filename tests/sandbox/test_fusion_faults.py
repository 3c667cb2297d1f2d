"""Injected faults and the latency model over real HTTP: 5xx as ADF JSON or HTML, 429 with Retry-After,
dropped connections, delays, deep-offset faults and token-endpoint failures."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from oracle_mailchimp_dagster.sandbox.common.faults import FaultRule
from oracle_mailchimp_dagster.sandbox.fusion import FusionSandboxConfig, RunningFusionSandbox
from tests.fixtures.fusion import FusionSandboxFactory, authorized_session, fetch_fusion_token

ACCOUNTS = r"/accounts$"


def add_fault(running: RunningFusionSandbox, **rule: Any) -> None:
    requests.post(running.control_url + "/faults", json=rule, timeout=10).raise_for_status()


def stats(running: RunningFusionSandbox) -> dict[str, Any]:
    return dict(requests.get(running.control_url + "/stats", timeout=10).json())


def test_5xx_with_an_adf_json_body_then_recovery(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    add_fault(fusion_sandbox, kind="error", status=503, path=ACCOUNTS, times=2)
    for _ in range(2):
        failed = fusion_session.get(fusion_sandbox.accounts_url, timeout=10)
        assert failed.status_code == 503
        assert failed.headers["Content-Type"] == "application/vnd.oracle.adf.error+json"
        assert failed.json()["title"] == "Service Unavailable"
    assert fusion_session.get(fusion_sandbox.accounts_url, timeout=10).status_code == 200
    assert stats(fusion_sandbox)["injected_faults"] == 2


def test_5xx_with_an_html_page(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    add_fault(fusion_sandbox, kind="html", status=502, path=ACCOUNTS)
    failed = fusion_session.get(fusion_sandbox.accounts_url, timeout=10)
    assert failed.status_code == 502
    assert failed.headers["Content-Type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in failed.text


def test_429_with_retry_after(fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox) -> None:
    add_fault(fusion_sandbox, kind="rate_limit", retry_after=7, path=ACCOUNTS)
    limited = fusion_session.get(fusion_sandbox.accounts_url, timeout=10)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"


def test_dropped_connection(fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox) -> None:
    add_fault(fusion_sandbox, kind="drop", path=ACCOUNTS)
    with pytest.raises(requests.exceptions.RequestException):
        fusion_session.get(fusion_sandbox.accounts_url, timeout=10).json()
    assert fusion_session.get(fusion_sandbox.accounts_url, timeout=10).status_code == 200
    assert stats(fusion_sandbox)["dropped_connections"] == 1


def test_faults_only_past_a_deep_offset(
    fusion_session: requests.Session, fusion_sandbox: RunningFusionSandbox
) -> None:
    add_fault(fusion_sandbox, kind="error", status=504, path=ACCOUNTS, min_offset=100, times=None)
    assert (
        fusion_session.get(fusion_sandbox.accounts_url, params={"offset": 100}, timeout=10).status_code == 200
    )
    assert (
        fusion_session.get(fusion_sandbox.accounts_url, params={"offset": 150}, timeout=10).status_code == 504
    )


def test_delayed_requests_overlap(fusion_sandbox: RunningFusionSandbox) -> None:
    add_fault(fusion_sandbox, kind="delay", delay_ms=400, path=ACCOUNTS, times=None)
    sessions = [authorized_session(fusion_sandbox) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        statuses = list(
            pool.map(lambda s: s.get(fusion_sandbox.accounts_url, timeout=10).status_code, sessions)
        )
    assert statuses == [200] * 4
    assert stats(fusion_sandbox)["peak_concurrent_requests"] >= 2


def test_token_endpoint_failures_read_as_oauth_errors(fusion_sandbox: RunningFusionSandbox) -> None:
    add_fault(fusion_sandbox, kind="error", status=503, path=r"/oauth2/v1/token$", times=2)
    for _ in range(2):
        with pytest.raises(requests.HTTPError) as failed:
            fetch_fusion_token(fusion_sandbox)
        assert failed.value.response.status_code == 503
        assert failed.value.response.json()["error"] == "temporarily_unavailable"
    assert fetch_fusion_token(fusion_sandbox)
    assert (stats(fusion_sandbox)["token_grants"], stats(fusion_sandbox)["injected_faults"]) == (1, 2)


def test_faults_can_be_configured_at_start(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    running = fusion_sandbox_factory(faults=[FaultRule(kind="error", status=500, path=ACCOUNTS)])
    session = authorized_session(running)
    assert session.get(running.accounts_url, timeout=10).status_code == 500
    assert session.get(running.accounts_url, timeout=10).status_code == 200


def test_realistic_latency_profile() -> None:
    model = FusionSandboxConfig(latency="realistic").latency_model()
    assert model.request_delay_s(items=500) == pytest.approx(0.8)
    assert model.token_ms == 200
    assert FusionSandboxConfig().latency_model().request_delay_s(items=500, offset=10_000) == 0


def test_realistic_latency_lets_concurrent_requests_overlap(
    fusion_sandbox_factory: FusionSandboxFactory,
) -> None:
    running = fusion_sandbox_factory(latency="realistic")
    assert requests.get(running.control_url + "/latency", timeout=10).json()["request_ms"] == 300
    sessions = [authorized_session(running) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda s: s.get(running.accounts_url, params={"limit": 5}, timeout=10), sessions))
    assert stats(running)["peak_concurrent_requests"] >= 2
