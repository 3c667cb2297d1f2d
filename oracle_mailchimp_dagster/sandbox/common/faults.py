"""Fault injection shared by both simulators: rules chosen at start or through the control API."""

import random
import re
import threading
from typing import Literal

from pydantic import BaseModel, Field, field_validator

FaultKind = Literal["error", "html", "rate_limit", "drop", "delay"]


class FaultRule(BaseModel):
    """One fault: which requests it hits (method, path regex, skip, times, probability) and how.

    kinds: `error` (JSON error body with `status`), `html` (an HTML error page with `status`, as a CDN
    or load balancer sends), `rate_limit` (429, with `Retry-After` when `retry_after` is set), `drop`
    (the connection is closed mid-response), `delay` (waits `delay_ms`, then serves normally).
    """

    kind: FaultKind
    status: int = Field(default=500, ge=400, le=599)
    method: str | None = None
    path: str = ".*"
    skip: int = Field(default=0, ge=0)
    times: int | None = Field(default=1, ge=1)
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    retry_after: int | None = Field(default=None, ge=0)
    delay_ms: int = Field(default=0, ge=0)
    min_offset: int | None = Field(default=None, ge=0)

    @field_validator("path")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        re.compile(value)
        return value


class FaultInjector:
    """Holds the active rules and decides, request by request, which one (if any) applies."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[tuple[FaultRule, re.Pattern[str], list[int]]] = []
        self._random = random.Random(seed)

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append((rule, re.compile(rule.path), [0, 0]))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, object]]:
        with self._lock:
            return [
                {**rule.model_dump(), "seen": seen, "fired": fired} for rule, _, (seen, fired) in self._rules
            ]

    def pick(self, method: str, path: str, offset: int = 0) -> FaultRule | None:
        """Return the first rule that fires for this request, counting it against the rule."""
        with self._lock:
            for rule, pattern, counters in self._rules:
                if rule.method is not None and rule.method.upper() != method.upper():
                    continue
                if not pattern.search(path):
                    continue
                if rule.min_offset is not None and offset <= rule.min_offset:
                    continue
                if rule.times is not None and counters[1] >= rule.times:
                    continue
                counters[0] += 1
                if counters[0] <= rule.skip:
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                counters[1] += 1
                return rule
        return None
