"""Sliced, concurrent extraction against the sandbox over HTTP: concurrency really used (as the pod
sees it), backing off under 429/503 bursts and slow pages and recovering, every record once."""

import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from oracle_mailchimp_dagster.fusion import CustomerCursor, FusionClient, FusionUnavailableError
from oracle_mailchimp_dagster.http import RetryPolicy
from oracle_mailchimp_dagster.pipeline.extract import ExtractMode, extract_customers
from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from tests.fixtures.fusion import FusionSandboxFactory
from tests.support.fusion_clients import (
    all_customers,
    control,
    fusion_client,
    oauth_connection,
    ordered_keys,
    sandbox_now,
    stats,
)

PAGE = {"path": "/accounts$", "method": "GET"}


def client_for(
    sandbox: RunningFusionSandbox, concurrency: int, version: int = 2, **options: Any
) -> FusionClient:
    return fusion_client(
        oauth_connection(sandbox, version), extract_concurrency=concurrency, **{"page_size": 100, **options}
    )


def latency(sandbox: RunningFusionSandbox, request_ms: float) -> None:
    control(sandbox, "PUT", "/latency", json={"request_ms": request_ms})


def keys_of(rows: list[Any]) -> list[tuple[datetime, int]]:
    return [(r.last_update_date, r.party_id) for r in rows]


def assert_each_once(rows: list[Any], sandbox: RunningFusionSandbox) -> None:
    ids = Counter(r.party_id for r in rows)
    assert ids and max(ids.values()) == 1, "no customer twice"
    assert set(ids) == set(all_customers(sandbox)), "every customer"


@pytest.mark.parametrize("framework_version", [1, 2])
def test_four_pages_are_in_flight_at_once_and_one_means_one(
    fusion_sandbox_factory: FusionSandboxFactory, framework_version: int
) -> None:
    sandbox = fusion_sandbox_factory(customers=3000)
    control(sandbox, "POST", "/customers/touch", json={"oldest": 600})  # a big tie on one instant
    latency(sandbox, 20)
    until = sandbox_now(sandbox) + timedelta(seconds=1)

    control(sandbox, "POST", "/stats/reset")
    concurrent = client_for(sandbox, 4, framework_version).extract_customers(until=until)
    rows = list(concurrent)
    assert stats(sandbox)["peak_concurrent_requests"] > 1, "the pod saw pages in flight together"
    assert_each_once(rows, sandbox)
    assert concurrent.stats.get("slices") > 1 and concurrent.stats.get("count_requests") >= 2
    report = concurrent.concurrency
    assert report is not None and report.peak_in_flight > 1
    assert concurrent.cursor == CustomerCursor(*max(keys_of(rows)))

    control(sandbox, "POST", "/stats/reset")
    sequential = client_for(sandbox, 1, framework_version).extract_customers(until=until)
    in_order = list(sequential)
    assert stats(sandbox)["peak_concurrent_requests"] == 1, "one page at a time, as before"
    assert keys_of(in_order) == ordered_keys(all_customers(sandbox))
    assert sequential.concurrency is None and sequential.stats.get("count_requests") == 0
    assert sequential.cursor == concurrent.cursor


@pytest.mark.parametrize(
    "burst",
    [{"kind": "rate_limit", "times": 8}, {"kind": "error", "status": 503, "times": 8}],
    ids=["429", "503"],
)
def test_a_burst_of_throttling_backs_off_and_recovers_without_losing_a_record(
    fusion_sandbox_factory: FusionSandboxFactory, burst: dict[str, Any]
) -> None:
    sandbox = fusion_sandbox_factory(customers=4000)
    control(sandbox, "POST", "/faults", json={**PAGE, "skip": 12, **burst})
    # Enough attempts that one request may meet the whole burst (the others wait at the gate).
    retry = RetryPolicy(max_attempts=10, initial_backoff_s=0.01, max_backoff_s=0.05, max_total_s=10)
    extraction = client_for(sandbox, 4, page_size=50, retry=retry).extract_customers(
        until=sandbox_now(sandbox) + timedelta(seconds=1)
    )
    rows = list(extraction)
    assert control(sandbox, "GET", "/faults")["rules"][0]["fired"] == 8
    assert_each_once(rows, sandbox)
    assert extraction.stats.get("retries") == 8
    report = extraction.concurrency
    assert report is not None
    assert report.backoffs >= 1 and report.lowest <= 2, "halved at least once"
    assert report.backoffs <= 3, "once per window, not once per throttled request"
    assert report.recoveries >= 1, "up again after healthy pages"
    assert report.limit == 4 or report.backoffs > 1, "back to four, unless a slow page came later"


def test_markedly_slow_pages_back_off(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    sandbox = fusion_sandbox_factory(customers=3000)
    latency(sandbox, 10)
    control(
        sandbox, "POST", "/faults", json={**PAGE, "kind": "delay", "delay_ms": 2500, "skip": 20, "times": 2}
    )
    extraction = client_for(sandbox, 4, page_size=50).extract_customers(
        until=sandbox_now(sandbox) + timedelta(seconds=1)
    )
    rows = list(extraction)
    assert_each_once(rows, sandbox)
    report = extraction.concurrency
    assert report is not None and report.backoffs >= 1 and extraction.stats.get("retries") == 0


@pytest.mark.parametrize("framework_version", [1, 2])
def test_records_changed_while_slices_are_paged_come_once_now_or_next_window(
    fusion_sandbox_factory: FusionSandboxFactory, framework_version: int
) -> None:
    sandbox = fusion_sandbox_factory(customers=3000)
    control(sandbox, "POST", "/customers/touch", json={"oldest": 1000})
    customers = all_customers(sandbox)
    order = [pid for _, pid in ordered_keys(customers)]
    changed = [order[5], order[700], order[1500], order[2200], order[2990]]
    mutations = [
        {"op": "update", "party_number": customers[pid]["PartyNumber"], "changes": {"City": "Moved"}}
        for pid in changed
    ]
    control(sandbox, "POST", "/change-rules", json={"before_request": 12, "mutations": mutations})
    client = client_for(sandbox, 4, framework_version)
    until = sandbox_now(sandbox) + timedelta(milliseconds=1)

    first = client.extract_customers(until=until)
    ids = Counter(r.party_id for r in first)
    assert stats(sandbox)["change_rules_fired"] == 1
    assert max(ids.values()) == 1, "each customer at most once per window"
    assert set(order) - set(changed) <= set(ids), "every customer that did not change"
    second = client.extract_customers(after=first.cursor, overlap=timedelta(0))
    again = list(second)
    assert {r.party_id for r in again} == set(changed), "the changed ones moved past the end: next window"
    assert all(r.city == "Moved" for r in again)


@pytest.mark.parametrize("framework_version", [1, 2])
def test_a_window_resumed_strictly_after_a_mark_keeps_it_in_the_first_slice(
    fusion_sandbox_factory: FusionSandboxFactory, framework_version: int
) -> None:
    sandbox = fusion_sandbox_factory(customers=3000)
    control(sandbox, "POST", "/customers/touch", json={"oldest": 900})
    ordered = ordered_keys(all_customers(sandbox))
    tied = Counter(ts for ts, _ in ordered).most_common(1)[0][0]
    ties = [key for key in ordered if key[0] == tied]
    mark = CustomerCursor(*ties[len(ties) // 2])  # in the middle of 900 ties
    client = client_for(sandbox, 4, framework_version)
    extraction = client.extract_customers(
        after=mark, overlap=timedelta(0), until=sandbox_now(sandbox) + timedelta(seconds=1)
    )
    rows = list(extraction)
    assert sorted(keys_of(rows)) == [key for key in ordered if key > (mark.last_update_date, mark.party_id)]
    assert extraction.since is None and extraction.cursor == CustomerCursor(*ordered[-1])


def test_the_extract_step_reads_a_sliced_window_and_proposes_the_largest_key(
    fusion_sandbox_factory: FusionSandboxFactory,
) -> None:
    sandbox = fusion_sandbox_factory(customers=2500)
    client = client_for(sandbox, 4)
    now = sandbox_now(sandbox) + timedelta(seconds=1)
    extract = extract_customers(client, ExtractMode.INCREMENTAL, mark=None, now=now)
    expected = all_customers(sandbox)
    assert sorted(c.key for c in extract.customers) == sorted(c["PartyNumber"] for c in expected.values())
    largest = ordered_keys(expected)[-1]
    assert extract.mark_candidate is not None
    assert (extract.mark_candidate.timestamp, extract.mark_candidate.key) == largest
    assert extract.stats["slices"] > 1


def test_a_failing_slice_fails_the_extraction_and_stops_the_others(
    fusion_sandbox_factory: FusionSandboxFactory,
) -> None:
    sandbox = fusion_sandbox_factory(customers=3000)
    control(
        sandbox, "POST", "/faults", json={**PAGE, "kind": "error", "status": 500, "skip": 10, "times": None}
    )
    retry = RetryPolicy(max_attempts=2, initial_backoff_s=0.01, max_backoff_s=0.02, max_total_s=5)
    extraction = client_for(sandbox, 4, retry=retry).extract_customers(
        until=sandbox_now(sandbox) + timedelta(seconds=1)
    )
    with pytest.raises(FusionUnavailableError, match="HTTP 500"):
        list(extraction)
    assert_slice_threads_end()


def test_leaving_the_iteration_early_stops_the_workers(fusion_sandbox_factory: FusionSandboxFactory) -> None:
    sandbox = fusion_sandbox_factory(customers=3000)
    latency(sandbox, 5)
    extraction = client_for(sandbox, 4, page_size=50).extract_customers(
        until=sandbox_now(sandbox) + timedelta(seconds=1)
    )
    rows = iter(extraction)
    taken = [next(rows) for _ in range(200)]
    rows.close()  # type: ignore[attr-defined]
    assert len({r.party_id for r in taken}) == 200
    assert_slice_threads_end()


def assert_slice_threads_end(deadline_s: float = 10.0) -> None:
    deadline = time.monotonic() + deadline_s
    while any(t.name.startswith("fusion-slice") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "slice workers still running"
        time.sleep(0.02)


def test_an_expired_token_is_refreshed_once_for_all_slices(
    fusion_sandbox_factory: FusionSandboxFactory,
) -> None:
    sandbox = fusion_sandbox_factory(customers=3000)
    latency(sandbox, 10)
    extraction = client_for(sandbox, 4, page_size=50).extract_customers(
        until=sandbox_now(sandbox) + timedelta(seconds=1)
    )
    rows = iter(extraction)
    seen = [next(rows) for _ in range(800)]
    assert control(sandbox, "POST", "/tokens/expire", json={})["expired"] == 1
    seen += list(rows)
    assert sorted(r.party_id for r in seen) == sorted(all_customers(sandbox))
    after = stats(sandbox)
    assert after["token_grants"] == 2, "the first 401 refreshes; the others find the new token"
    assert 1 <= after["pod_unauthorized"] <= 4, "only the pages in flight with the old token"
    assert extraction.stats.get("token_fetches") == 2
