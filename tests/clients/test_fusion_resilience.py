"""Fusion faults over HTTP: 429 (Retry-After), 5xx, HTML pages, resets and timeouts are retried."""

from datetime import timedelta
from typing import Any

import pytest

from oracle_mailchimp_dagster.fusion import FusionUnavailableError
from oracle_mailchimp_dagster.http import RetryPolicy, Timeouts
from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from tests.support.fusion_clients import all_customers, control, fusion_client, oauth_connection, stats

PAGE = {"path": "/accounts$", "method": "GET"}


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "rate_limit", "times": 2},
        {"kind": "rate_limit", "times": 1, "retry_after": 1},
        {"kind": "error", "status": 500, "times": 2},
        {"kind": "error", "status": 503, "times": 1, "skip": 1},
        {"kind": "html", "status": 502, "times": 2},
        {"kind": "drop", "times": 2, "skip": 2},
        {"kind": "delay", "delay_ms": 1500, "times": 1, "skip": 1},
    ],
    ids=["429", "429-retry-after", "500", "503", "502-html", "reset", "timeout"],
)
def test_extraction_survives_transient_faults_without_losing_a_record(
    fusion_sandbox: RunningFusionSandbox, rule: dict[str, Any]
) -> None:
    control(fusion_sandbox, "POST", "/faults", json={**PAGE, **rule})
    client = fusion_client(
        oauth_connection(fusion_sandbox),
        page_size=50,
        timeouts=Timeouts(connect_s=2, read_s=0.5),
        retry=RetryPolicy(max_attempts=4, initial_backoff_s=0.01, max_backoff_s=0.05, max_total_s=10),
    )
    extraction = client.extract_customers()
    rows = list(extraction)
    assert sorted(r.party_id for r in rows) == sorted(all_customers(fusion_sandbox))
    assert extraction.stats.get("retries") == rule["times"]
    # Every call is a page, a count planning the slices, a retry or the token request.
    reads = extraction.stats.get("pages") + extraction.stats.get("count_requests")
    assert extraction.stats.get("http_calls") == reads + rule["times"] + 1
    fired = control(fusion_sandbox, "GET", "/faults")["rules"][0]["fired"]
    assert fired == rule["times"]
    if "retry_after" in rule:
        assert client.stats.get("retries") == 1


def test_token_endpoint_outage_is_retried(fusion_sandbox: RunningFusionSandbox) -> None:
    control(
        fusion_sandbox,
        "POST",
        "/faults",
        json={"kind": "error", "status": 503, "path": "/oauth2/v1/token$", "times": 2},
    )
    client = fusion_client(oauth_connection(fusion_sandbox))
    assert len(list(client.extract_customers())) == 200
    assert stats(fusion_sandbox)["token_grants"] == 1
    assert client.stats.get("token_fetches") == 1 and client.stats.get("retries") == 2


def test_persistent_outage_exhausts_a_bounded_policy(fusion_sandbox: RunningFusionSandbox) -> None:
    control(fusion_sandbox, "POST", "/faults", json={**PAGE, "kind": "html", "status": 503, "times": None})
    client = fusion_client(
        oauth_connection(fusion_sandbox),
        retry=RetryPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02, max_total_s=5),
    )
    with pytest.raises(FusionUnavailableError) as error:
        list(client.extract_customers(since=None, until=None, overlap=timedelta(0)))
    assert error.value.attempts == 3
    assert "tenant 'acme'" in str(error.value) and "HTTP 503 (HTML page)" in str(error.value)
