"""Records that change *between* two page requests: the fault that makes offset paging drift.

A rule counts the authenticated pod requests matching its method and path; just before serving the Nth
one it applies its mutations, so a client paging through the collection sees the data move under it.
"""

import re
import threading
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oracle_mailchimp_dagster.sandbox.fusion.mutations import Mutation


class ChangeRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(default=r"/accounts$", description="Regex searched in the request path.")
    method: str = "GET"
    before_request: int = Field(ge=1, description="Apply just before serving the Nth matching request.")
    mutations: list[Mutation] = Field(min_length=1)

    @field_validator("path")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        re.compile(value)
        return value


class ChangeRuleBook:
    """The active change rules and how many requests each has seen."""

    def __init__(self, rules: list[ChangeRule] | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[tuple[ChangeRule, re.Pattern[str], list[int]]] = []
        for rule in rules or []:
            self.add(rule)

    def add(self, rule: ChangeRule) -> None:
        with self._lock:
            self._rules.append((rule, re.compile(rule.path), [0, 0]))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {**rule.model_dump(mode="json"), "seen": seen, "fired": fired}
                for rule, _, (seen, fired) in self._rules
            ]

    def due(self, method: str, path: str) -> list[Mutation]:
        """Count this request against every matching rule; return the mutations due before serving it."""
        due: list[Mutation] = []
        with self._lock:
            for rule, pattern, counters in self._rules:
                if rule.method.upper() != method.upper() or not pattern.search(path):
                    continue
                counters[0] += 1
                if counters[0] == rule.before_request:
                    counters[1] += 1
                    due.extend(rule.mutations)
        return due
