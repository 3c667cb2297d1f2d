"""Thread-safe counters a client exposes (HTTP calls, retries, pages...) for run metadata."""

import threading
from collections import Counter


class CallCounters:
    """Named integer counters shared by the threads of one client or one extraction."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
