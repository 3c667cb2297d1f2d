"""The simulator's clock: wall time at Mailchimp's one-second resolution, shiftable from the control API."""

import threading
from datetime import UTC, datetime, timedelta


def iso(moment: datetime) -> str:
    """Mailchimp's timestamp format: `2026-01-05T10:00:00+00:00`."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_iso(text: str) -> datetime:
    """An ISO 8601 timestamp from a query (`Z` or an offset; naive means UTC); ValueError otherwise."""
    moment = datetime.fromisoformat(text.strip().replace(" ", "+").replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SandboxClock:
    """`now()` is wall time plus an offset, truncated to whole seconds as Mailchimp reports it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return (datetime.now(UTC) + offset).replace(microsecond=0)

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, moment: datetime) -> datetime:
        with self._lock:
            self._offset = moment - datetime.now(UTC)
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta()
