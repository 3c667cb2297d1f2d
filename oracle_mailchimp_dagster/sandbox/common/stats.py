"""Request statistics every simulator exposes at `GET /__sandbox/stats`."""

from collections import Counter
from typing import Any


class RequestStats:
    """Counts by route and status plus in-flight peaks; updated only from the event loop thread."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.by_route: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.by_route_status: Counter[tuple[str, int]] = Counter()
        self.counters: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0

    def begin(self) -> None:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def end(self, route: str, status: int) -> None:
        self.in_flight -= 1
        self.by_route[route] += 1
        self.by_status[status] += 1
        self.by_route_status[(route, status)] += 1

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] += n

    def snapshot(self) -> dict[str, Any]:
        routes: dict[str, dict[str, int]] = {}
        for (route, status), n in sorted(self.by_route_status.items()):
            routes.setdefault(route, {})[str(status)] = n
        return {
            "requests_total": sum(self.by_route.values()),
            "requests_by_route": routes,
            "requests_by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "peak_concurrent_requests": self.peak_in_flight,
            "in_flight": self.in_flight,
            **dict(self.counters),
        }
