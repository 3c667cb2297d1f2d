"""The per-key limits: the process's limiter, shared by key across clients, never exceeded, never named
by the key; and the app database's gate, which bounds the sum over processes (without it, three
processes of one key pass Mailchimp's 10 connections)."""

import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http import RetryPolicy
from oracle_mailchimp_dagster.mailchimp import MailchimpClient, MailchimpClientOptions, MailchimpConnection
from oracle_mailchimp_dagster.mailchimp.limits import ConcurrencyLimiter, limiter_for_key
from oracle_mailchimp_dagster.sandbox.mailchimp import RunningMailchimpSandbox
from oracle_mailchimp_dagster.store.connection_slots import (
    ConnectionSlots,
    ConnectionSlotsBusyError,
    DatabaseConnectionGate,
)
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.location import normalise_url
from oracle_mailchimp_dagster.store.migrate import upgrade_schema
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint


def test_limiter_never_exceeds_its_bound_under_contention() -> None:
    limiter = ConcurrencyLimiter(3)
    inside = 0
    worst = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, worst
        for _ in range(20):
            with limiter.slot():
                with lock:
                    inside += 1
                    worst = max(worst, inside)
                time.sleep(0.0005)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert worst == 3 and limiter.peak == 3


def test_clients_sharing_a_key_share_one_limiter_and_the_strictest_limit() -> None:
    key = "fedcba9876543210fedcba9876543210-us2"
    other = "fedcba9876543210fedcba9876543211-us2"
    first = MailchimpClient(MailchimpConnection(api_key=key), MailchimpClientOptions(concurrency=8))
    second = MailchimpClient(MailchimpConnection(api_key=key), MailchimpClientOptions(concurrency=5))
    third = MailchimpClient(MailchimpConnection(api_key=other))
    assert first.limiter is second.limiter and first.limiter.limit == 5
    assert third.limiter is not first.limiter
    assert limiter_for_key(key, 10) is first.limiter and first.limiter.limit == 5


def test_a_client_names_its_key_by_the_credential_fingerprint_never_the_key() -> None:
    key = "00112233445566778899aabbccddeeff-us9"
    client = MailchimpClient(MailchimpConnection(api_key=key))
    assert client.key_id == credential_fingerprint(key) and key[:8] not in client.key_id
    assert key not in repr(client)


# ---- across processes: the app database's gate ---------------------------------------------------

PROCESSES = 3
THREADS = 8  # each process's own limit: 8 (the default concurrency)
PINGS_PER_THREAD = 4
REQUEST_MS = 150.0  # Mailchimp's latency: long enough for every process's requests to overlap


def pinger(api_base: str, api_key: str, database_url: str | None, barrier: Any) -> None:
    """One process: a client of the key, with the gate over `database_url` or none, pinging from
    THREADS threads at once."""
    gate = None
    if database_url is not None:
        gate = DatabaseConnectionGate(Database.from_url(normalise_url(database_url)), 10)
    client = MailchimpClient(
        MailchimpConnection(api_key=api_key, api_base=api_base),
        MailchimpClientOptions(concurrency=THREADS, retry=RetryPolicy(max_attempts=1)),
        gate=gate,
    )
    barrier.wait(timeout=60)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(lambda _: client.ping(), range(THREADS * PINGS_PER_THREAD)))
    client.close()


def ping_from_processes(sandbox: RunningMailchimpSandbox, database_url: str | None) -> dict[str, Any]:
    """Three processes pinging with one key at once; the sandbox's stats afterwards."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    key = sandbox.config.api_key
    processes = [
        context.Process(target=pinger, args=(sandbox.api_base, key, database_url, barrier))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join(timeout=120)
            assert process.exitcode == 0, f"pinger exited with {process.exitcode}"
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()
    stats: dict[str, Any] = requests.get(f"{sandbox.control_url}/stats", timeout=30).json()
    return stats


@pytest.fixture
def slow_sandbox(
    mailchimp_sandbox_factory: Callable[..., RunningMailchimpSandbox],
) -> RunningMailchimpSandbox:
    """A sandbox with latency, that lets 30 connections per key in (so a peak over 10 can be seen)."""
    sandbox = mailchimp_sandbox_factory()
    control = sandbox.control_url
    assert requests.put(f"{control}/latency", json={"request_ms": REQUEST_MS}, timeout=30).ok
    assert requests.patch(f"{control}/switches", json={"max_connections": 30}, timeout=30).ok
    return sandbox


def test_without_the_gate_processes_sharing_a_key_exceed_mailchimps_10_connections(
    slow_sandbox: RunningMailchimpSandbox,
) -> None:
    stats = ping_from_processes(slow_sandbox, None)
    (peak,) = stats["peak_in_flight_by_key"].values()
    assert peak > 10  # each process keeps to its 8, and together they pass Mailchimp's limit


def test_with_the_gate_processes_sharing_a_key_keep_to_10_connections_in_all(
    slow_sandbox: RunningMailchimpSandbox, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    db = Database.from_url(normalise_url(url))
    upgrade_schema(db)
    stats = ping_from_processes(slow_sandbox, url)
    (peak,) = stats["peak_in_flight_by_key"].values()
    assert 8 < peak <= 10  # the processes wanted 24: more than one process's 8, and no more than 10
    assert stats["too_many_requests"] == 0
    assert ConnectionSlots(db).held(credential_fingerprint(slow_sandbox.config.api_key)) == []
    db.dispose()


def test_a_request_waits_for_its_gate_and_fails_in_one_line_naming_the_fingerprint_when_it_may_not(
    mailchimp_sandbox: RunningMailchimpSandbox, tmp_path: Path
) -> None:
    db = Database.from_url(normalise_url(f"sqlite:///{tmp_path / 'app.db'}"))
    upgrade_schema(db)
    key = mailchimp_sandbox.config.api_key
    gate = DatabaseConnectionGate(db, 1, wait=timedelta(seconds=0))
    client = MailchimpClient(MailchimpConnection(api_key=key, api_base=mailchimp_sandbox.api_base), gate=gate)
    client.ping()  # a free slot: taken, and given back
    other = ConnectionSlots(db).try_acquire(client.key_id, 1, "another run", timedelta(seconds=30))
    assert other is not None
    with pytest.raises(ConnectionSlotsBusyError) as raised:
        client.ping()
    assert isinstance(raised.value, UserError)
    message = str(raised.value)
    assert client.key_id in message and key not in message and key.partition("-")[0][:8] not in message
    assert "\n" not in message
    requests_seen = requests.get(f"{mailchimp_sandbox.control_url}/stats", timeout=30).json()[
        "requests_total"
    ]
    assert requests_seen == 1  # the refused one was never sent
    client.close()
    db.dispose()
