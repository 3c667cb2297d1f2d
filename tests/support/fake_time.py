"""A fake clock for code that takes `clock`, `monotonic` and `sleep` (leases, connection slots)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class FakeTime:
    """A clock, a monotonic clock and sleep in one: sleeping moves both clocks, and is recorded."""

    now: datetime = T0
    elapsed: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds
        self.now += timedelta(seconds=seconds)
