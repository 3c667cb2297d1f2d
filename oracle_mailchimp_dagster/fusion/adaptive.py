"""How many requests an extraction keeps in flight: additive increase, multiplicative decrease.

Oracle publishes no rate limit; what a pod shows under load is 429, 5xx and pages that take much
longer. `AdaptiveConcurrency` is the pure rule (no clock, no threads): it halves the limit when a
request was throttled (429/5xx/timeouts made the transport retry it) or came back markedly slower
than usual, and adds one after a run of healthy pages. A request started before the last decrease
cannot cause another one: the requests in flight when trouble began all report it, and reacting to
each would collapse the limit to 1 at once (TCP's rule of one decrease per window).

`ConcurrencyGate` is the thread side: it admits a request while fewer than `limit` are in flight and
feeds each outcome back to the controller.
"""

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ConcurrencyReport:
    """What the controller did during one extraction."""

    maximum: int
    limit: int
    lowest: int
    backoffs: int
    recoveries: int
    peak_in_flight: int


class AdaptiveConcurrency:
    """The in-flight limit, between `minimum` and `maximum` (it starts at `maximum`).

    - throttled (429, 5xx, a timeout: anything the transport had to retry): halve, once per window;
    - slow (a latency sample over `slow_factor` times the usual and `slow_margin_s` more): the same;
    - healthy: after `recover_per_step * limit` healthy outcomes in a row (about that many rounds at
      the current limit), add one.

    The usual latency is a moving average of the samples (weight `smoothing`), slow ones included,
    so a pod that stays slower becomes the new usual instead of holding the limit down for ever.
    """

    def __init__(
        self,
        maximum: int,
        *,
        minimum: int = 1,
        recover_per_step: int = 4,
        slow_factor: float = 3.0,
        slow_margin_s: float = 1.0,
        smoothing: float = 0.2,
        warm_up: int = 3,
    ) -> None:
        if not 1 <= minimum <= maximum:
            raise ValueError("need 1 <= minimum <= maximum")
        self.maximum = maximum
        self.minimum = minimum
        self.limit = maximum
        self.lowest = maximum
        self.backoffs = 0
        self.recoveries = 0
        self._recover_per_step = recover_per_step
        self._slow_factor = slow_factor
        self._slow_margin_s = slow_margin_s
        self._smoothing = smoothing
        self._warm_up = warm_up
        self._window = 0  # bumped by each decrease
        self._healthy_run = 0
        self._usual_s: float | None = None
        self._samples = 0

    @property
    def usual_seconds(self) -> float | None:
        """The moving average of latency samples (None before the first)."""
        return self._usual_s

    def start(self) -> int:
        """A ticket for a request about to be sent: the window it starts in."""
        return self._window

    def throttled(self, ticket: int) -> bool:
        """The request holding `ticket` was throttled; True if that lowered the limit."""
        self._healthy_run = 0
        return self._decrease(ticket)

    def finished(self, ticket: int, seconds: float | None = None) -> bool:
        """The request came back without a transient failure, taking `seconds` (None: no sample,
        e.g. a short page or a count). True if it was slow enough to lower the limit."""
        if seconds is not None:
            slow = self._is_slow(seconds)
            self._sample(seconds)
            if slow:
                self._healthy_run = 0
                return self._decrease(ticket)
        self._healthy_run += 1
        if self.limit < self.maximum and self._healthy_run >= self._recover_per_step * self.limit:
            self.limit += 1
            self.recoveries += 1
            self._healthy_run = 0
        return False

    def _is_slow(self, seconds: float) -> bool:
        usual = self._usual_s
        if usual is None or self._samples < self._warm_up:
            return False
        return seconds > usual * self._slow_factor and seconds - usual > self._slow_margin_s

    def _sample(self, seconds: float) -> None:
        self._samples += 1
        if self._usual_s is None:
            self._usual_s = seconds
        else:
            self._usual_s += self._smoothing * (seconds - self._usual_s)

    def _decrease(self, ticket: int) -> bool:
        if ticket != self._window:
            return False  # sent before the last decrease: that decrease already answered it
        self._window += 1
        if self.limit <= self.minimum:
            return False
        self.limit = max(self.minimum, self.limit // 2)
        self.lowest = min(self.lowest, self.limit)
        self.backoffs += 1
        return True


class GateClosed(Exception):
    """The extraction stopped (failed or abandoned) while a request waited to be admitted."""


class ConcurrencyGate:
    """Admits requests while fewer than the controller's limit are in flight; thread-safe."""

    def __init__(self, controller: AdaptiveConcurrency) -> None:
        self._controller = controller
        self._changed = threading.Condition()
        self._in_flight = 0
        self._peak = 0
        self._closed = False

    def enter(self) -> int:
        """Wait for a place, take it, and return the request's ticket; GateClosed once closed."""
        with self._changed:
            while not self._closed and self._in_flight >= self._controller.limit:
                self._changed.wait()
            if self._closed:
                raise GateClosed
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            return self._controller.start()

    def leave(self, ticket: int, *, throttled: bool, seconds: float | None = None) -> None:
        """Give the place back with the request's outcome."""
        with self._changed:
            self._in_flight -= 1
            if throttled:
                self._controller.throttled(ticket)
            else:
                self._controller.finished(ticket, seconds)
            self._changed.notify_all()

    def close(self) -> None:
        """Wake every waiting request with GateClosed (requests in flight finish as they are)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def report(self) -> ConcurrencyReport:
        with self._changed:
            c = self._controller
            return ConcurrencyReport(c.maximum, c.limit, c.lowest, c.backoffs, c.recoveries, self._peak)
