"""Resetting a tenant's sync state: its member state, retry queue and mark, in the caller's transaction.

Member state and the mark describe one audience as filled from one Oracle resource; once a setting
points the tenant elsewhere they describe nothing, and an incremental run would trust them anyway.
A reset forgets them, so the next run reads every customer and loads the audience fully. The ledger
keeps its history and gains one row saying when and why.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oracle_mailchimp_dagster.store.ledger import append_ledger
from oracle_mailchimp_dagster.store.marks import bump_state_version, lock_mark, store_mark
from oracle_mailchimp_dagster.store.records import LedgerRecord
from oracle_mailchimp_dagster.store.schema import audience_event_marks, member_state, retry_queue, sync_state

# The ledger row of a reset: it concerns every customer at once, so no single key.
RESET_CUSTOMER_KEY = "*"
RESET_ACTION = "reset"
RESET_OUTCOME = "reset"
RESET_TITLE = "sync state reset"
RESET_RUN_PREFIX = "reset-"


@dataclass(frozen=True, slots=True)
class StateReset:
    """What one reset removed; `run_id` finds its ledger row (`oracle-mailchimp audit TENANT --run`)."""

    tenant_id: str
    run_id: str
    members_deleted: int
    retries_deleted: int
    mark_cleared: bool


def reset_run_id(now: datetime) -> str:
    """`reset-20250105T170241507000Z`: sorts by time, and no Dagster run id looks like it."""
    return RESET_RUN_PREFIX + now.strftime("%Y%m%dT%H%M%S%fZ")


def has_sync_state(conn: Connection, tenant_id: str) -> bool:
    """Whether the tenant has anything a reset would remove: a member, a queued retry, or a mark."""
    for table in (member_state, retry_queue):
        if conn.execute(sa.select(table.c.tenant_id).where(table.c.tenant_id == tenant_id).limit(1)).first():
            return True
    marked = sa.select(sync_state.c.tenant_id).where(
        sync_state.c.tenant_id == tenant_id, sync_state.c.mark_timestamp.is_not(None)
    )
    return conn.execute(marked).first() is not None


def _delete_rows(conn: Connection, table: sa.Table, tenant_id: str) -> int:
    return int(conn.execute(sa.delete(table).where(table.c.tenant_id == tenant_id)).rowcount)


def reset_sync_state(conn: Connection, tenant_id: str, reason: str, now: datetime) -> StateReset:
    """Delete the tenant's member state and retry queue, clear its mark, and record why in the ledger.

    Runs in the caller's write transaction (the registry's, so a setting and the reset it needs land
    together). The state row is locked first, as `commit_run` locks it, so a reset and a run's commit
    for the tenant serialise instead of interleaving.
    """
    mark = lock_mark(conn, tenant_id, now)
    members = _delete_rows(conn, member_state, tenant_id)
    retries = _delete_rows(conn, retry_queue, tenant_id)
    # A new audience (or list) starts its audience-event reads afresh, from the first-run look-back.
    _delete_rows(conn, audience_event_marks, tenant_id)
    run_id = reset_run_id(now)
    # The reset moves the state version on (authored by its run id): a run planned before it cannot
    # commit old-audience state afterwards.
    store_mark(conn, tenant_id, None, now, bump_version=False)
    bump_state_version(conn, tenant_id, now, run_id)
    reset = StateReset(
        tenant_id=tenant_id,
        run_id=run_id,
        members_deleted=members,
        retries_deleted=retries,
        mark_cleared=mark is not None,
    )
    mark_text = (
        f"mark {mark.timestamp.isoformat()} (PartyId {mark.key}) cleared" if mark else "no mark was set"
    )
    detail = f"{reason}; deleted {members} member state row(s) and {retries} retry queue row(s); {mark_text}"
    record = LedgerRecord(
        RESET_CUSTOMER_KEY, None, RESET_ACTION, RESET_OUTCOME, title=RESET_TITLE, detail=detail
    )
    append_ledger(conn, tenant_id, reset.run_id, now, [record])
    return reset
