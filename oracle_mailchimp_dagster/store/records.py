"""The typed values the store reads and writes; every timestamp is a timezone-aware UTC datetime."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from oracle_mailchimp_dagster.sync.model import MemberState


class SecretName(StrEnum):
    """The credentials a tenant can hold; which ones it needs depends on its auth modes."""

    ORACLE_CLIENT_SECRET = "oracle_client_secret"
    ORACLE_PASSWORD = "oracle_password"
    MAILCHIMP_API_KEY = "mailchimp_api_key"
    MAILCHIMP_OAUTH_TOKEN = "mailchimp_oauth_token"
    # Optional: the tenant's alert webhook (a Slack-style incoming webhook URL carries its own token).
    ALERT_WEBHOOK_URL = "alert_webhook_url"


class AudienceEventKind(StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    CLEANED = "cleaned"


@dataclass(frozen=True, slots=True, order=True)
class HighWaterMark:
    """How far a tenant's extract has safely got: Oracle `LastUpdateDate` (ms), ties broken by `PartyId`."""

    timestamp: datetime
    key: int


@dataclass(frozen=True, slots=True)
class SyncState:
    """A tenant's `sync_state` row. `state_version` counts the commits that wrote member state or moved
    the mark, and resets; `versioned_by` is the run (or reset) that made it (None: none yet)."""

    tenant_id: str
    mark: HighWaterMark | None
    last_run_id: str | None
    last_run_at: datetime | None
    updated_at: datetime
    state_version: int = 0
    versioned_by: str | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to write one tenant: held by `holder` (a Dagster run id) until `expires_at` unless
    renewed; `token` proves the holder, so a renewal or release never touches a lease taken over."""

    tenant_id: str
    holder: str
    token: str = field(repr=False)
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """One record's outcome in a run, as written; the run and time come from the commit."""

    customer_key: str
    email: str | None
    action: str
    outcome: str
    http_status: int | None = None
    title: str | None = None
    detail: str | None = None
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One ledger row as read back."""

    id: int
    tenant_id: str
    run_id: str
    customer_key: str
    email: str | None
    action: str
    outcome: str
    http_status: int | None
    title: str | None
    detail: str | None
    attempt: int
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class RetryEntry:
    """A record waiting for another attempt, or parked as a dead letter after too many."""

    customer_key: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    dead_letter: bool
    first_failed_at: datetime


@dataclass(frozen=True, slots=True)
class AudienceEvent:
    """An unsubscribe or cleaned address seen in Mailchimp (audit only, never written to Oracle)."""

    email: str
    subscriber_hash: str
    event: AudienceEventKind
    occurred_at: datetime
    source: str


@dataclass(frozen=True, slots=True)
class RunCommit:
    """Everything one run settles, written in a single transaction by `SyncStore.commit_run`.

    `new_mark` None leaves the mark where it is (replays); a mark older than the stored one is ignored,
    so the mark only ever moves forward here (use `MarkStore.reset` to move it back on purpose).

    `planned_version` and `planned_mark` are the state version and mark the run planned from: when
    `planned_version` is set, the commit is refused unless the tenant is still at both (compare-and-set).
    None skips the check (ledger-only commits such as audience events).
    """

    run_id: str
    finished_at: datetime
    ledger: Sequence[LedgerRecord] = ()
    member_upserts: Sequence[MemberState] = ()
    member_deletes: Sequence[str] = ()
    retry_upserts: Sequence[RetryEntry] = ()
    retry_clears: Sequence[str] = ()
    new_mark: HighWaterMark | None = None
    planned_version: int | None = None
    planned_mark: HighWaterMark | None = None


@dataclass(frozen=True, slots=True)
class CommitSummary:
    run_id: str
    ledger_rows: int
    members_upserted: int
    members_deleted: int
    retries_upserted: int
    retries_cleared: int
    mark_before: HighWaterMark | None
    mark_after: HighWaterMark | None
    counts_by_outcome: dict[str, int] = field(default_factory=dict)
    state_version: int = 0
