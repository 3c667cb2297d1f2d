"""Typed sensor cursors, serialised as JSON: one entry per tenant, kept small (hundreds of tenants, a
cursor stored with every tick)."""

from collections.abc import Iterable
from typing import TypeVar

from pydantic import BaseModel

C = TypeVar("C", bound=BaseModel)


class TickSummary(BaseModel):
    """What one tick of the Oracle change sensor did (also logged): tenants it had to look at, those it
    finished, the runs it requested, the failures it isolated, and those left for the next tick."""

    tenants: int = 0
    evaluated: int = 0
    requested: int = 0
    failed: int = 0
    unreached: int = 0
    seconds: float = 0.0


class OracleChangeCursor(BaseModel):
    """Per tenant: the high-water mark a run was last requested for (so a mark is requested once), the
    tick that last evaluated it (so a tick that ran out of time resumes with those it did not reach),
    and how many evaluations in a row failed (absent after a success)."""

    requested: dict[str, str] = {}
    tick: int = 0
    evaluated_in: dict[str, int] = {}
    failures: dict[str, int] = {}
    last_tick: TickSummary | None = None

    def visit_order(self, tenant_ids: Iterable[str]) -> list[str]:
        """Least recently evaluated first (never evaluated before all), ties by id."""
        return sorted(tenant_ids, key=lambda t: (self.evaluated_in.get(t, -1), t))

    def keep_only(self, tenant_ids: set[str]) -> None:
        """Forget tenants that are gone (removed, disabled, no partition), so the cursor stays their size."""
        for entries in (self.requested, self.evaluated_in, self.failures):
            for gone in set(entries) - tenant_ids:
                del entries[gone]


class AudienceEventsCursor(BaseModel):
    """Per tenant, the interval (its number, see `defs/audience.interval_slot`) a run was last requested
    for, so a tick looks up a tenant's secret only when its next interval has begun.

    A cursor of the earlier sensor (`since` per tenant, when it read Mailchimp in the tick) loads as
    empty: its marks now live in the app database (`audience_event_marks`)."""

    requested: dict[str, int] = {}


def load_cursor(kind: type[C], raw: str | None) -> C:
    return kind.model_validate_json(raw) if raw else kind()
