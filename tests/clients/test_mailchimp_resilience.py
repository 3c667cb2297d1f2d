"""Mailchimp faults and limits over HTTP: retried 429/5xx/HTML/resets, the per-key ceiling under load."""

import threading
from collections import Counter
from typing import Any

import pytest
import requests

from oracle_mailchimp_dagster.http import Timeouts
from oracle_mailchimp_dagster.mailchimp import ErrorKind, MailchimpRetryableError, MemberUpsert
from oracle_mailchimp_dagster.sandbox.mailchimp import RunningMailchimpSandbox
from tests.support.load_size import load_size
from tests.support.mailchimp_clients import MailchimpClientFactory, add_faults, sandbox_stats


def members(prefix: str, n: int) -> list[MemberUpsert]:
    return [MemberUpsert(email_address=f"{prefix}{i}@acme.io", status_if_new="subscribed") for i in range(n)]


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "rate_limit", "times": 2},
        {"kind": "rate_limit", "times": 1, "retry_after": 0},
        {"kind": "error", "status": 500, "times": 2},
        {"kind": "error", "status": 503, "times": 1},
        {"kind": "html", "status": 502, "times": 2},
        {"kind": "html", "status": 504, "times": 1},
        {"kind": "drop", "times": 2},
    ],
    ids=["429", "429-retry-after", "500", "503", "502-html", "504-html", "reset"],
)
def test_batch_is_retried_through_transient_faults(
    mailchimp_sandbox: RunningMailchimpSandbox,
    mailchimp_client_factory: MailchimpClientFactory,
    rule: dict[str, Any],
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    add_faults(mailchimp_sandbox, {**rule, "method": "POST", "path": f"^/3.0/lists/{list_id}$"})
    outcomes = client.upsert_batch(list_id, members("r", 20))
    assert [o.result for o in outcomes] == ["created"] * 20
    assert client.stats.get("retries") == rule["times"]
    assert client.stats.get("http_calls") == rule["times"] + 1


def test_faults_that_outlast_the_policy_become_retryable_outcomes(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox)
    list_id = mailchimp_sandbox.config.list_id
    add_faults(
        mailchimp_sandbox, {"kind": "html", "status": 502, "times": 5, "path": f"^/3.0/lists/{list_id}$"}
    )
    with pytest.raises(MailchimpRetryableError) as error:
        client.upsert_batch(list_id, members("x", 3))
    assert "after 5 attempt(s)" in str(error.value) and error.value.problem.status == 502
    add_faults(
        mailchimp_sandbox, {"kind": "error", "status": 500, "times": 5, "path": f"^/3.0/lists/{list_id}$"}
    )
    outcomes = [o for batch in client.upsert_many(list_id, members("y", 3)) for o in batch]
    assert [o.problem.kind if o.problem else None for o in outcomes] == [ErrorKind.RETRYABLE] * 3


@pytest.mark.load
def test_peak_in_flight_for_the_key_stays_within_ten_under_load(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    """Three client objects in three threads share one key: their combined in-flight count is capped.

    24,000 members (48 batches, 16 a client: two rounds of 8 each) in `make test`, 100,000 in `make load`.
    """
    list_id = mailchimp_sandbox.config.list_id
    clients = [
        mailchimp_client_factory(mailchimp_sandbox, concurrency=8, response_every=25)[0] for _ in range(3)
    ]
    assert clients[0].limiter is clients[1].limiter is clients[2].limiter
    # 20 ms per request inside the sandbox's connection gate, so requests really overlap there.
    latency = requests.put(mailchimp_sandbox.control_url + "/latency", json={"request_ms": 20}, timeout=10)
    latency.raise_for_status()
    results: list[Counter[str]] = [Counter() for _ in clients]

    total_members = load_size(small=24_000, full=100_000)
    sizes = [total_members // 3 + (1 if i < total_members % 3 else 0) for i in range(3)]

    def load(index: int) -> None:
        batch_source = members(f"load{index}-", sizes[index])
        for batch in clients[index].upsert_many(list_id, batch_source):
            results[index].update(o.result for o in batch)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = sum(results, Counter())
    assert total == Counter({"created": total_members})
    stats = sandbox_stats(mailchimp_sandbox)
    peaks = stats["peak_in_flight_by_key"]
    assert len(peaks) == 1
    peak = next(iter(peaks.values()))
    assert 2 <= peak <= 8 <= 10, peaks
    assert stats["too_many_requests"] == 0
    assert clients[0].limiter.peak <= 8


def test_a_request_that_times_out_is_retried(
    mailchimp_sandbox: RunningMailchimpSandbox, mailchimp_client_factory: MailchimpClientFactory
) -> None:
    client, _ = mailchimp_client_factory(mailchimp_sandbox, timeouts=Timeouts(connect_s=2, read_s=0.3))
    list_id = mailchimp_sandbox.config.list_id
    add_faults(
        mailchimp_sandbox, {"kind": "delay", "delay_ms": 1000, "times": 1, "path": f"^/3.0/lists/{list_id}$"}
    )
    outcomes = client.upsert_batch(list_id, members("t", 5))
    assert {o.result for o in outcomes} <= {"created", "updated"} and len(outcomes) == 5
    assert client.stats.get("retries") == 1
