"""The per-key limiter: shared by key across clients, never exceeded, never named by the key."""

import threading
import time

from oracle_mailchimp_dagster.mailchimp import MailchimpClient, MailchimpClientOptions, MailchimpConnection
from oracle_mailchimp_dagster.mailchimp.limits import ConcurrencyLimiter, limiter_for_key
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
