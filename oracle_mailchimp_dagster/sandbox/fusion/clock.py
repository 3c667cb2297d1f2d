"""The sandbox clock: wall time by default, settable, advanceable and freezable by tests.

Every LastUpdateDate a mutation writes and every token expiry is read from this clock, so a test can put
a batch of changes at one instant or expire tokens by moving time forward.
"""

import threading
import time

from oracle_mailchimp_dagster.sandbox.fusion.timestamps import format_timestamp


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class SandboxClock:
    def __init__(self, start_ms: int | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        wall = _wall_ms()
        start = wall if start_ms is None else start_ms
        self._offset = start - wall
        # One reading of the wall clock: a second one for the freeze could land a millisecond later.
        self._frozen_at: int | None = start if frozen else None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now_ms(self) -> int:
        frozen_at = self._frozen_at
        return frozen_at if frozen_at is not None else _wall_ms() + self._offset

    def set(self, ms: int) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = ms
            else:
                self._offset = ms - _wall_ms()

    def advance(self, ms: int) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += ms
            else:
                self._offset += ms

    def freeze(self) -> None:
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = _wall_ms() + self._offset

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - _wall_ms()
                self._frozen_at = None

    def snapshot(self) -> dict[str, object]:
        now = self.now_ms()
        return {"now": format_timestamp(now), "now_ms": now, "frozen": self.frozen}
