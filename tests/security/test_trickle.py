"""A server that trickles a byte a second keeps every read under the read timeout; the deadline ends it.

The read timeout (5 s) is longer than the deadline (2 s) and than the pace (1 s), so only the
deadline can stop these requests; the trickle would last 30 s.
"""

import time

import pytest

from oracle_mailchimp_dagster.fusion import FusionUnavailableError
from oracle_mailchimp_dagster.http import HttpTransport, RetryableFailure, RetryPolicy, Timeouts
from oracle_mailchimp_dagster.mailchimp import MailchimpRetryableError
from tests.security.conftest import HostileFactory
from tests.support.hostile_servers import CLIENT_KINDS, Behaviour, ClientKind, Kind, subject

DEADLINE_S = 2.0
TIMEOUTS = Timeouts(connect_s=2, read_s=5, deadline_s=DEADLINE_S)
ONE_ATTEMPT = RetryPolicy(max_attempts=1)
# The deadline, plus room for a busy machine; far below the 30 s the trickle lasts.
LATEST_S = DEADLINE_S + 3.0

CASES: list[tuple[ClientKind, Kind, str]] = [(kind, "trickle_body", "resource") for kind in CLIENT_KINDS] + [
    ("fusion-oauth", "trickle_headers", "token"),
    ("mailchimp-key", "trickle_headers", "resource"),
]


@pytest.mark.parametrize(("kind", "trickle", "route"), CASES)
def test_the_deadline_stops_a_trickle(
    kind: ClientKind, trickle: Kind, route: str, hostile: HostileFactory
) -> None:
    slow = Behaviour(trickle, interval_s=1.0, trickle_bytes=30)
    server = hostile(**{route: slow})
    client = subject(kind, server, timeouts=TIMEOUTS, retry=ONE_ATTEMPT)
    started = time.monotonic()
    with pytest.raises((FusionUnavailableError, MailchimpRetryableError)) as caught:
        client.call()
    elapsed = time.monotonic() - started
    client.close()
    assert "timed out after 2 s" in str(caught.value), str(caught.value)
    assert DEADLINE_S - 0.2 <= elapsed < LATEST_S, elapsed
    assert server.bytes_sent < 10, "the trickle was stopped early"


@pytest.mark.parametrize(("idempotent", "attempts"), [(True, 2), (False, 1)])
def test_a_timed_out_attempt_is_retried_only_when_idempotent(
    idempotent: bool, attempts: int, hostile: HostileFactory
) -> None:
    """Like any timeout: retried for a GET, not for a call the server may have acted on."""
    server = hostile(resource=Behaviour("trickle_body", interval_s=0.4, trickle_bytes=30))
    transport = HttpTransport(
        retry=RetryPolicy(max_attempts=2, initial_backoff_s=0.01, max_backoff_s=0.02),
        timeouts=Timeouts(connect_s=2, read_s=5, deadline_s=1.0),
    )
    with pytest.raises(RetryableFailure) as caught:
        transport.send("POST", server.url + "/anything", transient=lambda _: None, idempotent=idempotent)
    transport.close()
    assert caught.value.reason == "timed out after 1 s (the request deadline)"
    assert caught.value.attempts == attempts and len(server.seen) == attempts
