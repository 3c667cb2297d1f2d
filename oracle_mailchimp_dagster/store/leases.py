"""One writer per tenant: a lease row per tenant (table `tenant_leases`), taken in one atomic statement.

A lease is free when there is no row, or its `expires_at` has passed (its holder died or hung without
renewing). Taking it is a single `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired`, so of two
processes racing for it exactly one wins, on SQLite (writers serialise) and PostgreSQL (the conflicting
row is locked and the condition re-read) alike. Renewal and release name the lease's random token, so a
holder that lost its lease to a takeover can never extend or delete the new holder's.

Times come from the application's clock: runs of one deployment share a host or NTP, and the ttl
(a minute by default) is far longer than their skew.
"""

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.errors import LeaseBusyError
from oracle_mailchimp_dagster.store.marks import require_tenant
from oracle_mailchimp_dagster.store.records import Lease
from oracle_mailchimp_dagster.store.schema import tenant_leases

# Waiting for a lease: first poll after 0.1 s, then 1.5 times longer each time, at most 2 s apart.
FIRST_POLL_S = 0.1
POLL_GROWTH = 1.5
MAX_POLL_S = 2.0
_TAKEN_OVER = ("holder", "token", "acquired_at", "renewed_at", "expires_at")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _lease(m: Any) -> Lease:
    return Lease(
        tenant_id=m["tenant_id"],
        holder=m["holder"],
        token=m["token"],
        acquired_at=m["acquired_at"],
        renewed_at=m["renewed_at"],
        expires_at=m["expires_at"],
    )


def _take(conn: Connection, lease: Lease, now: datetime) -> bool:
    """Insert the lease, or take over the row if it expired or is already this holder's."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(tenant_leases)
    statement = (
        insert.values(
            tenant_id=lease.tenant_id,
            holder=lease.holder,
            token=lease.token,
            acquired_at=lease.acquired_at,
            renewed_at=lease.renewed_at,
            expires_at=lease.expires_at,
        )
        .on_conflict_do_update(
            index_elements=["tenant_id"],
            set_={name: insert.excluded[name] for name in _TAKEN_OVER},
            where=sa.or_(tenant_leases.c.expires_at <= now, tenant_leases.c.holder == lease.holder),
        )
        .returning(tenant_leases.c.token)
    )
    return conn.execute(statement).scalar_one_or_none() == lease.token


class LeaseStore:
    """Take, renew and release tenant leases; `acquire` waits for one with backoff."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` stamps leases; `sleep` and `monotonic` pace and bound waiting (tests replace them)."""
        self._db = db
        self._clock = clock
        self._sleep = sleep
        self._monotonic = monotonic

    def current(self, tenant_id: str) -> Lease | None:
        """The tenant's lease row, expired or not (None when no one holds it)."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(tenant_leases).where(tenant_leases.c.tenant_id == tenant_id)).first()
        return _lease(row._mapping) if row is not None else None

    def try_acquire(self, tenant_id: str, holder: str, ttl: timedelta) -> Lease | None:
        """The lease if it was free, expired or already `holder`'s; None while another holds it."""
        now = self._clock()
        lease = Lease(tenant_id, holder, secrets.token_hex(16), now, now, now + ttl)
        with self._db.write() as conn:
            require_tenant(conn, tenant_id)
            return lease if _take(conn, lease, now) else None

    def acquire(
        self,
        tenant_id: str,
        holder: str,
        ttl: timedelta,
        wait: timedelta,
        on_wait: Callable[[Lease], None] | None = None,
    ) -> Lease:
        """Take the lease, polling with backoff for up to `wait` while another run holds it.

        `on_wait` hears about the holder once, when waiting starts. Raises LeaseBusyError naming the
        holder when the wait is over.
        """
        deadline = self._monotonic() + wait.total_seconds()
        delay = FIRST_POLL_S
        told = False
        while True:
            lease = self.try_acquire(tenant_id, holder, ttl)
            if lease is not None:
                return lease
            holding = self.current(tenant_id)
            if holding is None:
                continue  # released between the two statements: try again at once
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise LeaseBusyError(tenant_id, holding.holder, holding.expires_at, wait.total_seconds())
            if on_wait is not None and not told:
                on_wait(holding)
                told = True
            self._sleep(min(delay, remaining))
            delay = min(delay * POLL_GROWTH, MAX_POLL_S)

    def renew(self, lease: Lease, ttl: timedelta) -> Lease | None:
        """Extend a lease still held by its token; None when it was taken over (or released)."""
        now = self._clock()
        with self._db.write() as conn:
            result = conn.execute(
                sa.update(tenant_leases)
                .where(tenant_leases.c.tenant_id == lease.tenant_id, tenant_leases.c.token == lease.token)
                .values(renewed_at=now, expires_at=now + ttl)
            )
        if result.rowcount != 1:
            return None
        return Lease(lease.tenant_id, lease.holder, lease.token, lease.acquired_at, now, now + ttl)

    def release(self, lease: Lease) -> bool:
        """Give the lease up; False when it was no longer this token's."""
        with self._db.write() as conn:
            result = conn.execute(
                sa.delete(tenant_leases).where(
                    tenant_leases.c.tenant_id == lease.tenant_id, tenant_leases.c.token == lease.token
                )
            )
        return bool(result.rowcount == 1)
