"""Mailchimp's only rate limit: N simultaneous requests per API key; the next one is refused at once."""

import threading
from collections import Counter


class ConnectionLimiter:
    """In-flight requests per credential label, with peaks and refusals for `/__sandbox/stats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero peaks and refusals (requests in flight stay counted, so their release stays balanced)."""
        with self._lock:
            self.in_flight: Counter[str] = getattr(self, "in_flight", None) or Counter()
            self.peak: Counter[str] = Counter(self.in_flight)
            self.rejected: Counter[str] = Counter()

    def try_acquire(self, label: str, limit: int) -> bool:
        with self._lock:
            if self.in_flight[label] >= limit:
                self.rejected[label] += 1
                return False
            self.in_flight[label] += 1
            self.peak[label] = max(self.peak[label], self.in_flight[label])
            return True

    def release(self, label: str) -> None:
        with self._lock:
            self.in_flight[label] -= 1
            if self.in_flight[label] <= 0:
                del self.in_flight[label]

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "peak_in_flight_by_key": dict(self.peak),
                "in_flight_by_key": dict(self.in_flight),
                "too_many_requests_by_key": dict(self.rejected),
                "too_many_requests": sum(self.rejected.values()),
            }
