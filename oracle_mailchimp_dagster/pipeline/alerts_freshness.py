"""When a tenant's audience counts as stale: no successful sync in three of its schedule intervals.

Pure: the tenant's cron and time zone, the time of its last successful sync (or of its registration,
for a tenant never synced) and the time now. The interval in which the last sync succeeded had its
run; each of the next three intervals should have had one too. When the third has ended (the fourth
tick after the last sync) without a successful sync, the audience is stale: with `*/15 * * * *`
that is 45 to 60 minutes after the last success, with a daily cron three days. Ticks are counted in
the tenant's time zone, so DST changes move them as the schedule moves its runs.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from croniter import croniter

STALE_INTERVALS = 3


@dataclass(frozen=True)
class Freshness:
    """The verdict at `now`: `stale_at` is when the audience goes (or went) stale without a sync."""

    reference: datetime
    stale_at: datetime
    stale: bool


def stale_at(cron: str, timezone: str, reference: datetime, intervals: int = STALE_INTERVALS) -> datetime:
    """The `intervals + 1`-th tick of `cron` after `reference` (aware), as an aware UTC-comparable time."""
    if reference.tzinfo is None:
        raise ValueError("reference must be timezone-aware")
    ticks = croniter(cron, reference.astimezone(zoneinfo.ZoneInfo(timezone)))
    tick = reference
    for _ in range(intervals + 1):
        tick = ticks.get_next(datetime)
    return tick


def freshness(
    cron: str,
    timezone: str,
    *,
    last_sync: datetime | None,
    registered_at: datetime,
    now: datetime,
    intervals: int = STALE_INTERVALS,
) -> Freshness:
    """Fresh or stale at `now`: counted from the last successful sync, or from the registration when it
    is later (a tenant registered again under an old id does not inherit the old syncs)."""
    reference = registered_at if last_sync is None else max(last_sync, registered_at)
    deadline = stale_at(cron, timezone, reference, intervals)
    return Freshness(reference=reference, stale_at=deadline, stale=now >= deadline)
