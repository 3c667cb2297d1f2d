"""Shared HTTP transport for both clients: pooled sessions, timeouts, bounded retries with jitter."""

from oracle_mailchimp_dagster.http.policy import RetryPolicy, Timeouts, backoff_seconds, parse_retry_after
from oracle_mailchimp_dagster.http.session import build_session
from oracle_mailchimp_dagster.http.stats import CallCounters
from oracle_mailchimp_dagster.http.transport import (
    HttpTransport,
    RetryableFailure,
    RetryEvent,
    Verdict,
    looks_like_html,
)

__all__ = [
    "CallCounters",
    "HttpTransport",
    "RetryEvent",
    "RetryPolicy",
    "RetryableFailure",
    "Timeouts",
    "Verdict",
    "backoff_seconds",
    "build_session",
    "looks_like_html",
    "parse_retry_after",
]
