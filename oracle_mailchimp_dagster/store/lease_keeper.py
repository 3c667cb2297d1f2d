"""The tenant leases this process holds, each kept alive by a daemon thread until it is released.

A run's steps execute one after another in one process, so the first step takes the lease and the
later ones find it here (keyed by holder and tenant) instead of waiting for themselves. The thread
renews every third of the ttl: if the process dies, renewals stop and the lease expires a ttl later.
"""

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from oracle_mailchimp_dagster.store.leases import LeaseStore
from oracle_mailchimp_dagster.store.records import Lease

log = logging.getLogger(__name__)


class HeldLease:
    """One lease held by this process; `lost` once a renewal found it taken over."""

    def __init__(self, store: LeaseStore, lease: Lease, ttl: timedelta) -> None:
        self.store = store
        self.ttl = ttl
        self._lease = lease
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._keep_alive, name=f"lease-{lease.tenant_id}-{lease.holder}", daemon=True
        )
        self._thread.start()

    @property
    def lease(self) -> Lease:
        return self._lease

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    @property
    def renewing(self) -> bool:
        """The renewal thread is still running (until released or lost)."""
        return self._thread.is_alive()

    def renew_now(self) -> bool:
        """Renew at once (a later step making sure it still holds the lease); False when lost."""
        if not self.lost and not self._renew():
            self._lost.set()
        return not self.lost

    def release(self) -> None:
        """Stop renewing and give the lease up (a no-op for a lease lost to a takeover)."""
        self._stop.set()
        self._thread.join(timeout=self.ttl.total_seconds())
        if self.lost:
            return
        try:
            self.store.release(self._lease)
        except Exception:  # the lease expires a ttl from its last renewal anyway
            log.warning("releasing the lease of tenant %s failed", self._lease.tenant_id, exc_info=True)

    def _renew(self) -> bool:
        renewed = self.store.renew(self._lease, self.ttl)
        if renewed is None:
            return False
        self._lease = renewed
        return True

    def _keep_alive(self) -> None:
        interval = self.ttl.total_seconds() / 3
        while not self._stop.wait(interval):
            try:
                if not self._renew():
                    log.warning("lease of tenant %s was taken over", self._lease.tenant_id)
                    self._lost.set()
                    return
            except Exception:  # a database hiccup: the token keeps the lease ours until it expires
                log.warning("renewing the lease of tenant %s failed", self._lease.tenant_id, exc_info=True)


class LeaseKeeper:
    """The leases of this process by (holder, tenant)."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], HeldLease] = {}
        self._lock = threading.Lock()

    def hold(
        self,
        store: LeaseStore,
        tenant_id: str,
        holder: str,
        *,
        ttl: timedelta,
        wait: timedelta,
        on_wait: Callable[[Lease], None] | None = None,
    ) -> HeldLease:
        """The lease `holder` already holds here (renewed now), else a newly acquired one, waiting up
        to `wait` for another holder (see `LeaseStore.acquire`)."""
        key = (holder, tenant_id)
        with self._lock:
            held = self._held.get(key)
        if held is not None:
            # Stays registered if the renewal raises, so releasing the holder's leases still stops it.
            if held.renew_now():
                return held
            with self._lock:
                self._held.pop(key, None)
            held.release()
        held = HeldLease(store, store.acquire(tenant_id, holder, ttl, wait, on_wait), ttl)
        with self._lock:
            self._held[key] = held
        return held

    def held(self, holder: str, tenant_id: str) -> HeldLease | None:
        with self._lock:
            return self._held.get((holder, tenant_id))

    def release(self, holder: str) -> int:
        """Release every lease `holder` holds here; returns how many."""
        with self._lock:
            mine = [key for key in self._held if key[0] == holder]
            leases = [self._held.pop(key) for key in mine]
        for held in leases:
            held.release()
        return len(leases)


# The process's leases: Dagster runs the steps of a run in one process (in-process executor).
LEASES = LeaseKeeper()
