"""Per-API-key concurrency limits: one shared by every client object in the process, and the gate
that bounds the sum over every process.

Mailchimp allows 10 simultaneous connections per key; two clients (two tenants, two threads, two
runs, two machines) using one key must share one budget. Both are keyed by the credential's
fingerprint (`sync.identity`), never the key. The in-process limiter queues a process's threads
cheaply; a `ConnectionGate` (the app database's, injected from above: `mailchimp/` knows no table)
bounds what all processes together have in flight.
"""

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from oracle_mailchimp_dagster.sync.identity import credential_fingerprint


class ConcurrencyLimiter:
    """A counting limit whose bound can only be lowered (the strictest caller wins)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._condition = threading.Condition()
        self._limit = limit
        self._in_use = 0
        self.peak = 0

    @property
    def limit(self) -> int:
        return self._limit

    def lower_to(self, limit: int) -> None:
        with self._condition:
            self._limit = max(1, min(self._limit, limit))

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._condition:
            while self._in_use >= self._limit:
                self._condition.wait()
            self._in_use += 1
            self.peak = max(self.peak, self._in_use)
        try:
            yield
        finally:
            with self._condition:
                self._in_use -= 1
                self._condition.notify()


class ConnectionGate(Protocol):
    """A per-key bound on requests in flight across processes; `slot` holds one of them.

    Entered around each attempt of each request (never around a backoff sleep), inside the process's
    own limiter, so a process never waits for more slots than it has threads allowed to send.
    """

    def slot(self, key_fingerprint: str) -> AbstractContextManager[object]:
        """Hold one of the key's slots until the block ends, waiting for one if all are in use."""
        ...


_registry: dict[str, ConcurrencyLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for_key(secret: str, limit: int) -> ConcurrencyLimiter:
    """The process-wide limiter of this credential, lowered to `limit` if that is stricter."""
    name = credential_fingerprint(secret)
    with _registry_lock:
        limiter = _registry.get(name)
        if limiter is None:
            limiter = _registry[name] = ConcurrencyLimiter(limit)
        else:
            limiter.lower_to(limit)
        return limiter
