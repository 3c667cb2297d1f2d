"""Retry and timeout policy: plain settings plus the pure arithmetic of backoff and Retry-After.

The clients own these as fields (as dagster-fivetran's resource owns `request_max_retries` and
`request_retry_delay`), so a Dagster resource can expose them as config later without new code.
"""

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RetryPolicy(BaseModel):
    """How hard to retry a transient failure: attempts and total time are both bounded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=6, ge=1, le=20, description="Attempts per call, the first included.")
    initial_backoff_s: float = Field(default=0.5, gt=0, description="Backoff before the second attempt.")
    max_backoff_s: float = Field(default=30.0, gt=0, description="Ceiling of one exponential backoff.")
    max_total_s: float = Field(
        default=300.0, gt=0, description="No new attempt starts after this long since the first."
    )
    max_retry_after_s: float = Field(
        default=120.0, ge=0, description="Longest server-requested wait (Retry-After) that is honoured."
    )

    @model_validator(mode="after")
    def _ordered(self) -> "RetryPolicy":
        if self.initial_backoff_s > self.max_backoff_s:
            raise ValueError("initial_backoff_s must not exceed max_backoff_s")
        return self


# Generous for an Oracle page of 500 customers or a Mailchimp page of members; a cap, not a budget.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class Timeouts(BaseModel):
    """Connect and read timeouts applied to every request (requests has no session-wide default),
    and the deadline of a whole attempt: a read timeout bounds one socket read only, so a server
    trickling a byte at a time would hold a request for ever without it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect_s: float = Field(default=10.0, gt=0, description="Seconds to open a connection.")
    read_s: float = Field(default=120.0, gt=0, description="Seconds to wait for each read.")
    deadline_s: float = Field(
        default=300.0, gt=0, description="Seconds one attempt may take in all: connect, headers and body."
    )

    def as_requests(self) -> tuple[float, float]:
        return (self.connect_s, self.read_s)


def backoff_seconds(
    attempt: int,
    policy: RetryPolicy,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based).

    Exponential with "equal jitter" (between half and all of the exponential step), so that many
    clients that failed together do not retry together. A server's Retry-After wins when present,
    capped by the policy, with up to 10% jitter added on top.
    """
    draw = (rng or random).random()
    if retry_after_s is not None:
        wait = min(max(retry_after_s, 0.0), policy.max_retry_after_s)
        return wait + wait * 0.1 * draw
    step = min(policy.max_backoff_s, policy.initial_backoff_s * 2.0 ** max(attempt - 1, 0))
    return step / 2.0 + step / 2.0 * draw


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
