"""Mailchimp -> audit: unsubscribes and cleaned addresses, recorded, respected, never sent to Oracle."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from oracle_mailchimp_dagster.pipeline.ports import AudienceClient
from oracle_mailchimp_dagster.store.audience_events import STATUS_AFTER
from oracle_mailchimp_dagster.store.records import AudienceEvent, AudienceEventKind, LedgerRecord, RunCommit
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.identity import subscriber_hash
from oracle_mailchimp_dagster.tenants.model import TenantConfig

EVENT_FOR_STATUS = {"unsubscribed": AudienceEventKind.UNSUBSCRIBE, "cleaned": AudienceEventKind.CLEANED}

# How far back the first read of a tenant's audience goes (no mark yet).
FIRST_LOOKBACK = timedelta(days=1)


def window_start(mark: datetime | None, now: datetime) -> datetime:
    """Where a read starts: the stored mark, else `FIRST_LOOKBACK` before `now`."""
    return mark if mark is not None else now - FIRST_LOOKBACK


@dataclass(frozen=True)
class AudienceEventsResult:
    """`seen`: members read in the window; `recorded`: events new to the store; `ledger_rows`: one per
    customer holding a newly recorded address; `next_since`: the newest `last_changed` read."""

    seen: int
    recorded: int
    ledger_rows: int
    next_since: datetime


def record_audience_events(
    client: AudienceClient, store: SyncStore, tenant: TenantConfig, since: datetime, *, run_id: str
) -> AudienceEventsResult:
    """Read members that became unsubscribed or cleaned since `since`; record what is new.

    A member whose stored status already says so is not recorded again (a later merge-field update
    by the sync moves `last_changed` without a new event). Customers holding the address get a
    ledger row each, under `run_id` (the Dagster run, so `oracle-mailchimp audit TENANT --run` finds
    them); the commit is ledger-only, so it leaves the state version and a running plan alone.
    """
    newest = since
    events: list[AudienceEvent] = []
    for status, kind in EVENT_FOR_STATUS.items():
        for member in client.iter_members_changed_since(tenant.mailchimp.list_id, since, status=status):
            changed = member.last_changed or datetime.now(UTC)
            newest = max(newest, changed)
            events.append(
                AudienceEvent(
                    email=member.email_address.lower(),
                    subscriber_hash=subscriber_hash(member.email_address),
                    event=kind,
                    occurred_at=changed,
                    source="mailchimp",
                )
            )
    holders = store.members.by_subscriber_hashes(tenant.id, {e.subscriber_hash for e in events})
    known = {(m.subscriber_hash, m.known_status) for m in holders}
    fresh = [e for e in events if (e.subscriber_hash, STATUS_AFTER[e.event]) not in known]
    if not fresh:
        return AudienceEventsResult(len(events), 0, 0, newest)
    recorded = store.audience.record(tenant.id, fresh)
    by_hash = {e.subscriber_hash: e for e in fresh}
    ledger = [
        LedgerRecord(
            customer_key=m.customer_key,
            email=m.email,
            action="audience_event",
            outcome=by_hash[m.subscriber_hash].event.value,
            detail="seen in Mailchimp; recorded for audit, never written to Oracle",
        )
        for m in holders
        if m.subscriber_hash in by_hash
    ]
    if ledger:
        store.commit_run(tenant.id, RunCommit(run_id=run_id, finished_at=datetime.now(UTC), ledger=ledger))
    return AudienceEventsResult(len(events), recorded, len(ledger), newest)
