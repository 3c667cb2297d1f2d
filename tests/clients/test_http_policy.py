"""Backoff arithmetic and Retry-After parsing (pure), and the limits every client starts with."""

import random
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from oracle_mailchimp_dagster.fusion import FusionClientOptions
from oracle_mailchimp_dagster.http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    RetryPolicy,
    Timeouts,
    backoff_seconds,
    parse_retry_after,
)
from oracle_mailchimp_dagster.mailchimp import MailchimpClientOptions

POLICY = RetryPolicy(initial_backoff_s=1.0, max_backoff_s=8.0, max_retry_after_s=30.0)


@pytest.mark.parametrize(("attempt", "step"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (12, 8.0)])
def test_backoff_is_exponential_capped_with_equal_jitter(attempt: int, step: float) -> None:
    rng = random.Random(7)
    waits = [backoff_seconds(attempt, POLICY, rng=rng) for _ in range(200)]
    assert min(waits) >= step / 2
    assert max(waits) <= step
    assert len({round(w, 6) for w in waits}) > 100, "jitter must spread retries"


def test_retry_after_wins_over_backoff_and_is_capped() -> None:
    rng = random.Random(1)
    waits = [backoff_seconds(1, POLICY, retry_after_s=5.0, rng=rng) for _ in range(100)]
    assert all(5.0 <= w <= 5.5 for w in waits)
    assert backoff_seconds(1, POLICY, retry_after_s=600.0, rng=rng) <= 33.0


def test_policy_rejects_inverted_bounds() -> None:
    with pytest.raises(ValidationError, match="initial_backoff_s must not exceed max_backoff_s"):
        RetryPolicy(initial_backoff_s=10, max_backoff_s=1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("", None), ("3", 3.0), (" 120 ", 120.0), ("soon", None), ("-1", None)],
)
def test_parse_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    now = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 05 Jan 2026 10:00:07 GMT", now=now) == 7.0
    assert parse_retry_after("Mon, 05 Jan 2026 09:00:00 GMT", now=now) == 0.0


def test_every_attempt_has_a_deadline_and_every_client_a_generous_body_cap() -> None:
    assert Timeouts().deadline_s == 300.0
    assert Timeouts(connect_s=1, read_s=5, deadline_s=2).deadline_s == 2.0
    with pytest.raises(ValidationError):
        Timeouts(deadline_s=0)
    for options in (FusionClientOptions(), MailchimpClientOptions()):
        assert options.timeouts.deadline_s == 300.0
        assert options.max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES == 64 * 1024 * 1024
    with pytest.raises(ValidationError):
        FusionClientOptions(max_response_bytes=10)
