"""Mailchimp's per-key connection limit across processes and machines: slot rows in `connection_slots`.

A key (named by its credential fingerprint, never the key) has slots 0..limit-1, and a request in flight
holds one row. A slot is free when it has no row or its `expires_at` has passed (its holder died or hung
without renewing). Taking one is a single `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired`, so of two
writers racing for a slot exactly one gets it, on SQLite (writers serialise) and PostgreSQL (the
conflicting row is locked and the condition re-read). Each attempt is its own transaction, so a writer
never holds more than one row lock and two of them can never deadlock. Every acquisition has its own
holder (host, pid, random token), so a release or renewal can only touch the row it took.

Every request takes and gives back a slot, so these writes are on the request's path: on PostgreSQL
they commit without waiting for the WAL flush (`synchronous_commit off`, about 3 times faster here). A
commit is visible to every other transaction at once all the same; only a server crash could lose the
last fraction of a second of them, and a slot row means nothing after that crash anyway.

The keeper renews this process's slots every third of the ttl, so a long request keeps its slot and the
slots of a killed process free themselves within the ttl. Times come from the application's clock, as
for tenant leases: a deployment's machines share NTP, and the ttl is far longer than their skew.
"""

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.schema import LEASE_HOLDER_LENGTH, connection_slots

log = logging.getLogger(__name__)

# Mailchimp answers a key's 11th simultaneous connection with 429.
DEFAULT_LIMIT = 10
DEFAULT_TTL = timedelta(seconds=30)
# All of a key's slots busy this long means runs are starving each other: fail, saying so.
DEFAULT_WAIT = timedelta(seconds=600)
# Waiting for a slot: first poll after about 20 ms (a request lasts ~100 ms and up), growing to 0.5 s.
FIRST_POLL_S = 0.02
POLL_GROWTH = 1.5
MAX_POLL_S = 0.5
_HOST_CHARS = 80


def _utc_now() -> datetime:
    return datetime.now(UTC)


def new_holder() -> str:
    """A holder name unique to one acquisition, saying which machine and process holds the slot."""
    host = socket.gethostname()[:_HOST_CHARS] or "unknown-host"
    return f"{host}:{os.getpid()}:{secrets.token_hex(8)}"[:LEASE_HOLDER_LENGTH]


@dataclass(frozen=True)
class SlotClaim:
    """One slot of a key held by one acquisition."""

    key_fingerprint: str
    slot: int
    holder: str


class ConnectionSlotsBusyError(UserError):
    """Every connection slot of a Mailchimp key stayed in use for the whole wait."""

    def __init__(self, key_fingerprint: str, limit: int, waited_s: float) -> None:
        super().__init__(
            f"all {limit} Mailchimp connections of API key {key_fingerprint} (fingerprint) stayed in use "
            f"by other runs for {waited_s:g} s; try again when they have finished, or run fewer tenants "
            "that share this key at once"
        )
        self.key_fingerprint = key_fingerprint
        self.limit = limit


@contextmanager
def _write(db: Database) -> Iterator[Connection]:
    """A write transaction of slot rows (see the module's docstring for the commit without flush)."""
    with db.write() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        yield conn


def _take(conn: Connection, claim: SlotClaim, expires_at: datetime, now: datetime) -> bool:
    """Insert the slot's row, or take the row over if it has expired; True when it is now `claim`'s."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(connection_slots)
    statement = (
        insert.values(
            key_fingerprint=claim.key_fingerprint,
            slot=claim.slot,
            holder=claim.holder,
            expires_at=expires_at,
        )
        .on_conflict_do_update(
            index_elements=["key_fingerprint", "slot"],
            set_={"holder": insert.excluded.holder, "expires_at": insert.excluded.expires_at},
            where=connection_slots.c.expires_at <= now,
        )
        .returning(connection_slots.c.holder)
    )
    return conn.execute(statement).scalar_one_or_none() == claim.holder


class ConnectionSlots:
    """Take, renew, release and list the slot rows of the keys (no waiting: see `DatabaseConnectionGate`)."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = _utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._rng = rng or random.Random()

    def held(self, key_fingerprint: str) -> list[SlotClaim]:
        """The key's slots in use now (expired rows are free, so not listed), by slot."""
        now = self._clock()
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(connection_slots.c.slot, connection_slots.c.holder)
                .where(connection_slots.c.key_fingerprint == key_fingerprint)
                .where(connection_slots.c.expires_at > now)
                .order_by(connection_slots.c.slot)
            ).all()
        return [SlotClaim(key_fingerprint, row.slot, row.holder) for row in rows]

    def try_acquire(self, key_fingerprint: str, limit: int, holder: str, ttl: timedelta) -> SlotClaim | None:
        """A slot of the key for `holder`, or None while all `limit` of them are in use.

        The slots seen free are tried in random order (waiters of many processes would all race for
        the lowest otherwise), each in its own transaction; one taken meanwhile is simply skipped.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        busy = {claim.slot for claim in self.held(key_fingerprint)}
        free = [slot for slot in range(limit) if slot not in busy]
        self._rng.shuffle(free)
        for slot in free:
            claim = SlotClaim(key_fingerprint, slot, holder)
            now = self._clock()
            with _write(self._db) as conn:
                if _take(conn, claim, now + ttl, now):
                    return claim
        return None

    def renew(self, claims: Sequence[SlotClaim], ttl: timedelta) -> set[SlotClaim]:
        """Push the expiry of these claims' rows to a ttl from now; returns the claims still theirs."""
        if not claims:
            return set()
        now = self._clock()
        c = connection_slots.c
        with _write(self._db) as conn:
            rows = conn.execute(
                sa.update(connection_slots)
                .where(
                    sa.tuple_(c.key_fingerprint, c.slot, c.holder).in_(
                        [(claim.key_fingerprint, claim.slot, claim.holder) for claim in claims]
                    )
                )
                .values(expires_at=now + ttl)
                .returning(c.key_fingerprint, c.slot, c.holder)
            ).all()
        return {SlotClaim(row.key_fingerprint, row.slot, row.holder) for row in rows}

    def release(self, claim: SlotClaim) -> bool:
        """Free the slot; False when it was no longer this claim's (it expired and was taken over)."""
        with _write(self._db) as conn:
            result = conn.execute(
                sa.delete(connection_slots).where(
                    connection_slots.c.key_fingerprint == claim.key_fingerprint,
                    connection_slots.c.slot == claim.slot,
                    connection_slots.c.holder == claim.holder,
                )
            )
        return bool(result.rowcount == 1)


class SlotKeeper:
    """Renews the slots this process holds, on a daemon thread that runs while any is held."""

    def __init__(self, slots: ConnectionSlots, ttl: timedelta) -> None:
        self._slots = slots
        self._ttl = ttl
        self._held: set[SlotClaim] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.renewals = 0

    def held(self) -> set[SlotClaim]:
        with self._lock:
            return set(self._held)

    def add(self, claim: SlotClaim) -> None:
        with self._lock:
            self._held.add(claim)
            if self._thread is None:
                self._thread = threading.Thread(target=self._keep_alive, name="mailchimp-slots", daemon=True)
                self._thread.start()

    def discard(self, claim: SlotClaim) -> None:
        with self._lock:
            self._held.discard(claim)

    def renew_now(self) -> set[SlotClaim]:
        """Renew every held slot at once; returns those still this process's."""
        claims = sorted(self.held(), key=lambda c: (c.key_fingerprint, c.slot))
        renewed = self._slots.renew(claims, self._ttl)
        self.renewals += 1
        # Not renewed and still held (not released meanwhile): the renewal came too late (a stalled
        # process). The request goes on, and may overlap its slot's new holder until it ends.
        lost = (set(claims) - renewed) & self.held()
        if lost:
            log.warning("%d Mailchimp connection slot(s) expired before renewal", len(lost))
        return renewed

    def _keep_alive(self) -> None:
        interval = self._ttl.total_seconds() / 3
        while True:
            time.sleep(interval)
            with self._lock:
                if not self._held:
                    self._thread = None  # a later `add` starts another
                    return
            try:
                self.renew_now()
            except Exception:  # a database hiccup: the next renewal is still within the ttl
                log.warning("renewing Mailchimp connection slots failed", exc_info=True)


class DatabaseConnectionGate:
    """Mailchimp's `ConnectionGate` over the app database: at most `limit` requests in flight per key,
    summed over every process and machine that shares the database.

    Waiting for a slot polls with growing, jittered pauses for up to `wait`, then raises
    ConnectionSlotsBusyError.
    """

    def __init__(
        self,
        db: Database,
        limit: int = DEFAULT_LIMIT,
        *,
        ttl: timedelta = DEFAULT_TTL,
        wait: timedelta = DEFAULT_WAIT,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.ttl = ttl
        self.wait = wait
        self._rng = rng or random.Random()
        self.slots = ConnectionSlots(db, clock=clock, rng=self._rng)
        self.keeper = SlotKeeper(self.slots, ttl)
        self._sleep = sleep
        self._monotonic = monotonic

    def acquire(self, key_fingerprint: str) -> SlotClaim:
        """A slot of the key, renewed by the keeper until released; waits up to `wait` for one."""
        holder = new_holder()
        deadline = self._monotonic() + self.wait.total_seconds()
        delay = FIRST_POLL_S
        while True:
            claim = self.slots.try_acquire(key_fingerprint, self.limit, holder, self.ttl)
            if claim is not None:
                self.keeper.add(claim)
                return claim
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise ConnectionSlotsBusyError(key_fingerprint, self.limit, self.wait.total_seconds())
            self._sleep(min(remaining, delay * self._rng.uniform(0.5, 1.0)))
            delay = min(delay * POLL_GROWTH, MAX_POLL_S)

    def release(self, claim: SlotClaim) -> None:
        """Give the slot back (if the database is unreachable, it expires a ttl after its last renewal)."""
        self.keeper.discard(claim)
        try:
            self.slots.release(claim)
        except Exception:
            log.warning("releasing Mailchimp connection slot %d failed", claim.slot, exc_info=True)

    @contextmanager
    def slot(self, key_fingerprint: str) -> Iterator[SlotClaim]:
        claim = self.acquire(key_fingerprint)
        try:
            yield claim
        finally:
            self.release(claim)
