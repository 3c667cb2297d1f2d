"""Shared HTTP transport for both clients: pooled sessions, timeouts and deadlines, bounded retries
with jitter, no redirects, a cap on bodies, and the redaction of credentials from messages."""

from oracle_mailchimp_dagster.http.policy import (
    DEFAULT_MAX_RESPONSE_BYTES,
    RetryPolicy,
    Timeouts,
    backoff_seconds,
    parse_retry_after,
)
from oracle_mailchimp_dagster.http.redaction import REDACTED, Redactor, host_of, redact
from oracle_mailchimp_dagster.http.refusals import RedirectRefused, ResponseTooLarge, TransportRefusal
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
    "DEFAULT_MAX_RESPONSE_BYTES",
    "REDACTED",
    "CallCounters",
    "HttpTransport",
    "Redactor",
    "RedirectRefused",
    "ResponseTooLarge",
    "RetryEvent",
    "RetryPolicy",
    "RetryableFailure",
    "Timeouts",
    "TransportRefusal",
    "Verdict",
    "backoff_seconds",
    "build_session",
    "host_of",
    "looks_like_html",
    "parse_retry_after",
    "redact",
]
