"""Which cron tick of a tenant is due: pure functions of the cron, its time zone, a cursor and now.

The scheduling sensor (`defs/scheduling.py`) asks this on every evaluation for every enabled tenant.
A tick is due when it falls after the tenant's last evaluation and not after now; when several are
due (the daemon was down, a tenant's run could not be requested), only the latest is requested and
the others are counted as missed, so a restart never brings a storm of catch-up runs.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from pydantic import BaseModel

# Counting missed ticks stops here ("20+"): each count is a walk over the ticks, and after a month of
# downtime a thousand tenants on `* * * * *` would otherwise walk for minutes in one evaluation.
MISSED_COUNT_CAP = 20
# croniter ignores sub-second parts, so a tick at exactly `now` is found from just after it.
_JUST_AFTER = timedelta(microseconds=1)


@dataclass(frozen=True)
class TenantSchedule:
    """What a tenant's record says about when it runs."""

    tenant_id: str
    cron: str
    timezone: str

    @property
    def label(self) -> str:
        """The cron with its zone, as the logs show it (and the cursor keeps, to notice a change)."""
        return f"'{self.cron}' {self.timezone}"


class TenantTicks(BaseModel):
    """The cursor's entry for one tenant."""

    evaluated_until: datetime  # every tick up to here has been considered
    schedule: str  # `TenantSchedule.label` at that evaluation
    last_requested: datetime | None = None  # the tick of the last run requested


class ScheduleCursor(BaseModel):
    """The scheduling sensor's cursor: when it last evaluated, when it last listed every tenant's next
    due time in its log, and one entry per enabled tenant."""

    evaluated_at: datetime | None = None
    listed_at: datetime | None = None
    tenants: dict[str, TenantTicks] = {}


@dataclass(frozen=True)
class Due:
    """The outcome for one tenant at one evaluation."""

    tick: datetime | None  # the tick to request now (None: nothing due)
    missed: int  # older ticks that were due too and are not requested (no catch-up)
    since: datetime  # ticks were looked for after this time
    next_due: datetime  # the first tick after now


def _zoned(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def next_tick(schedule: TenantSchedule, after: datetime) -> datetime:
    """The first tick strictly after `after`, in the tenant's zone."""
    found: datetime = croniter(schedule.cron, _zoned(after, schedule.timezone)).get_next(datetime)
    return found


def latest_tick(schedule: TenantSchedule, now: datetime) -> datetime:
    """The last tick at or before `now`, in the tenant's zone."""
    found: datetime = croniter(schedule.cron, _zoned(now + _JUST_AFTER, schedule.timezone)).get_prev(datetime)
    return found


def due(schedule: TenantSchedule, since: datetime, now: datetime) -> Due:
    """The tick to request for ticks after `since` up to `now`: the latest one, if any.

    One walk from `since`: usually a step or two (evaluations are 30 s apart); after a long downtime it
    stops counting at `MISSED_COUNT_CAP` and jumps to the latest tick."""
    ticks = croniter(schedule.cron, _zoned(since, schedule.timezone))
    tick: datetime = ticks.get_next(datetime)
    if tick > now:
        return Due(None, 0, since, tick)
    for missed in range(MISSED_COUNT_CAP):
        following: datetime = ticks.get_next(datetime)
        if following > now:
            return Due(tick, missed, since, following)
        tick = following
    return Due(latest_tick(schedule, now), MISSED_COUNT_CAP, since, next_tick(schedule, now))


def start_of(entry: TenantTicks | None, cursor: ScheduleCursor, now: datetime) -> datetime:
    """Where a tenant's ticks are looked for from: its own last evaluation; for a tenant the cursor
    does not know yet (new, or enabled again), the sensor's last evaluation, as if it had been there
    then; on the sensor's very first evaluation, now (like a schedule that was just turned on)."""
    if entry is not None:
        return entry.evaluated_until
    return cursor.evaluated_at if cursor.evaluated_at is not None else now
