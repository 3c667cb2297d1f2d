"""What the latency model cost, per route: counted items and simulated delay, for `/__sandbox/stats`.

Tests can then check a handler's latency accounting (e.g. that a segment batch counts every address) without
sleeping: run with no latency, read the items, and price them with the model's pure `request_delay_s`.
"""

import threading
from collections import Counter
from typing import Any


class DelayLedger:
    """Totals of latency items and applied delay by route (`METHOD /path/{template}`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.items: Counter[str] = Counter()
            self.delay_ms = 0.0

    def record(self, route: str, items: int, delay_s: float) -> None:
        with self._lock:
            if items:
                self.items[route] += items
            self.delay_ms += delay_s * 1000.0

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_items_by_route": dict(sorted(self.items.items())),
                "simulated_delay_ms": round(self.delay_ms, 3),
            }
