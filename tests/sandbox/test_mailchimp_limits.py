"""Mailchimp sandbox: the 10-simultaneous-connections limit per API key, Retry-After and latency profiles."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from oracle_mailchimp_dagster.sandbox.mailchimp import RunningMailchimpSandbox
from oracle_mailchimp_dagster.sandbox.mailchimp.auth import credential_label
from oracle_mailchimp_dagster.sandbox.mailchimp.config import latency_model
from tests.fixtures.mailchimp import BaseUrlSession, assert_problem
from tests.support.openapi_contract import ContractRecorder, attach_contract_check

SECOND_KEY = "fedcba9876543210fedcba9876543210-us21"
HOLD_MS = 1000  # long enough that every burst request arrives while the first ten are still held


def burst(sandbox: RunningMailchimpSandbox, keys: list[str]) -> list[tuple[int, requests.Response]]:
    """One request per key, all released at once, each on its own connection; (finish order, response)."""
    barrier = threading.Barrier(len(keys))
    finished: list[int] = []
    lock = threading.Lock()
    recorder = ContractRecorder()

    def call(key: str) -> tuple[int, requests.Response]:
        with requests.Session() as session:
            session.auth = ("anystring", key)
            session.hooks["response"].append(recorder)
            barrier.wait()
            response = session.get(f"{sandbox.api_base}/ping", timeout=30)
        with lock:
            finished.append(len(finished))
            return finished[-1], response

    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        results = list(pool.map(call, keys))
    recorder.assert_clean()
    return results


def test_the_eleventh_simultaneous_request_is_refused_at_once(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_control: BaseUrlSession
) -> None:
    mailchimp_control.put("/latency", json={"request_ms": HOLD_MS})
    key = mailchimp_sandbox.config.api_key
    results = burst(mailchimp_sandbox, [key] * 15)

    ok = [order for order, r in results if r.status_code == 200]
    refused = [(order, r) for order, r in results if r.status_code == 429]
    assert (len(ok), len(refused)) == (10, 5)
    for _, response in refused:
        assert_problem(
            response, 429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections."
        )
        assert "Retry-After" not in response.headers, "Mailchimp documents no Retry-After; off by default"
    assert max(order for order, _ in refused) < min(ok), "refusals come back before any held request ends"

    stats = mailchimp_control.get("/stats").json()
    label = credential_label(key)
    assert stats["peak_in_flight_by_key"] == {label: 10}
    assert stats["too_many_requests"] == 5
    assert stats["in_flight_by_key"] == {}, "every slot was given back"
    assert stats["requests_by_route"]["GET /3.0/ping"] == {"200": 10, "429": 5}


def test_each_api_key_has_its_own_ten_connections(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_control: BaseUrlSession
) -> None:
    mailchimp_control.post("/api-keys", json={"api_key": SECOND_KEY})
    mailchimp_control.put("/latency", json={"request_ms": 300})
    results = burst(mailchimp_sandbox, [mailchimp_sandbox.config.api_key] * 10 + [SECOND_KEY] * 5)
    assert [r.status_code for _, r in results] == [200] * 15
    peaks = mailchimp_control.get("/stats").json()["peak_in_flight_by_key"]
    assert max(peaks.values()) <= 10
    assert peaks[credential_label(SECOND_KEY)] <= 5


def test_retry_after_can_be_switched_on(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_control: BaseUrlSession
) -> None:
    mailchimp_control.patch("/switches", json={"retry_after_s": 2, "max_connections": 1})
    mailchimp_control.put("/latency", json={"request_ms": HOLD_MS})
    results = burst(mailchimp_sandbox, [mailchimp_sandbox.config.api_key] * 2)
    refused = [r for _, r in results if r.status_code == 429]
    assert len(refused) == 1
    assert refused[0].headers["Retry-After"] == "2"


def test_stats_reset_clears_the_limit_counters(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_control: BaseUrlSession
) -> None:
    mailchimp_control.patch("/switches", json={"max_connections": 1})
    mailchimp_control.put("/latency", json={"request_ms": 300})
    burst(mailchimp_sandbox, [mailchimp_sandbox.config.api_key] * 2)
    assert mailchimp_control.get("/stats").json()["too_many_requests"] == 1
    assert mailchimp_control.post("/stats/reset").status_code == 204
    stats = mailchimp_control.get("/stats").json()
    assert (stats["too_many_requests"], stats["peak_in_flight_by_key"], stats["requests_total"]) == (0, {}, 0)


def test_latency_profiles(mailchimp_sandbox_factory: Any) -> None:
    assert latency_model("none").request_delay_s(500) == 0
    realistic = latency_model("realistic")
    assert realistic.request_delay_s(0) == 0.150
    assert realistic.request_delay_s(500) == 0.150 + 500 * 0.002, "150 ms a request plus 2 ms a member"
    running: RunningMailchimpSandbox = mailchimp_sandbox_factory(latency="realistic")
    with BaseUrlSession(running.control_url) as control:
        served = control.get("/latency").json()
    assert (served["request_ms"], served["per_item_ms"]) == (150.0, 2.0)
    with requests.Session() as session:
        session.auth = ("x", running.config.api_key)
        recorder = attach_contract_check(session)
        assert session.get(f"{running.api_base}/ping", timeout=30).status_code == 200
        assert recorder.checked == 1
