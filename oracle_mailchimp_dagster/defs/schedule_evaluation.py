"""One evaluation of the scheduling sensor over every tenant: what to request, what to say, the next
cursor. No Dagster and no database here: the tenants, their run tags and the queued runs come in.

Each tenant is evaluated on its own: a record that cannot be read or a credential that cannot be
opened becomes one problem line naming the tenant and the fix, and the others go on. A tenant with a
problem keeps its cursor entry, so its due tick is requested (once, the latest) when it is fixed.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from oracle_mailchimp_dagster.defs.schedule_ticks import (
    MISSED_COUNT_CAP,
    ScheduleCursor,
    TenantSchedule,
    TenantTicks,
    due,
    start_of,
)
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.http.redaction import redact_credentials
from oracle_mailchimp_dagster.secrets import SecretDecryptionError
from oracle_mailchimp_dagster.tenants import MissingSecretError

# The full table of next due times goes to the tick's log this often (and whenever a tenant's
# schedule appears, changes or goes): hundreds of lines every 30 s would flood the log storage.
LIST_EVERY = timedelta(hours=1)
SOONEST_SHOWN = 5

Level = Literal["info", "warning", "error"]
# The run tags of a tenant's scheduled run (raises when its credentials cannot be read).
TagsFor = Callable[[str], dict[str, str]]


@dataclass(frozen=True)
class StoredTenant:
    """A tenant as the registry holds it: its schedule, or why its record cannot be read."""

    tenant_id: str
    enabled: bool
    schedule: TenantSchedule | None
    problem: str | None = None


@dataclass(frozen=True)
class Request:
    tenant_id: str
    tick: datetime
    tags: dict[str, str]

    @property
    def run_key(self) -> str:
        """One run per tenant and tick, however often the tick is evaluated."""
        return f"schedule:{self.tenant_id}:{self.tick.isoformat()}"


@dataclass
class Evaluation:
    now: datetime
    cursor: ScheduleCursor
    requests: list[Request] = field(default_factory=list)
    logs: list[tuple[Level, str]] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    upcoming: list[tuple[datetime, TenantSchedule]] = field(default_factory=list)
    changed: bool = False

    def say(self, level: Level, line: str) -> None:
        self.logs.append((level, line))

    def skip_message(self) -> str:
        """The tick's summary when nothing is requested (the UI shows it in the tick history)."""
        soonest = sorted(self.upcoming, key=lambda item: item[0])[:SOONEST_SHOWN]
        nexts = ", ".join(f"{s.tenant_id} at {shown(when)}" for when, s in soonest)
        text = f"Nothing due at {shown(self.now)}."
        if nexts:
            more = len(self.upcoming) - len(soonest)
            text += f" Next: {nexts}" + (f" (+{more} more)" if more else "") + "."
        text += f" {len(self.upcoming)} tenant(s) scheduled."
        if self.problems:
            text += f" Cannot schedule {', '.join(sorted(self.problems))}: see this tick's log."
        return text


def shown(moment: datetime) -> str:
    """A tick as the logs show it: minutes and the zone's offset."""
    return moment.isoformat(timespec="minutes")


def fix_for(tenant_id: str, exc: Exception) -> str:
    """What a person does about a problem reading a tenant's credentials."""
    if isinstance(exc, SecretDecryptionError | MissingSecretError):
        return (
            f"store the Mailchimp credential again (`oracle-mailchimp tenants update {tenant_id} "
            "--mailchimp-api-key-env VAR`) or make the master key that sealed it available "
            "(ORACLE_MAILCHIMP_MASTER_KEY or ORACLE_MAILCHIMP_KEY_FILE)"
        )
    return f"check it with `oracle-mailchimp tenants test {tenant_id}`"


def describe(exc: Exception) -> str:
    """An exception as one line with no credential: a `UserError`'s message, else class and message."""
    text = redact_credentials(str(exc)).splitlines()
    message = text[0] if text else ""
    return message if isinstance(exc, UserError) else f"{type(exc).__name__}: {message}"


def config_fix(tenant_id: str) -> str:
    """A record that no longer validates cannot be the start of `tenants update` (which reads it
    first): it is written again whole."""
    return (
        f"write its settings again with `oracle-mailchimp tenants import FILE.yaml` (an entry for "
        f"{tenant_id}, secrets named by variable)"
    )


def evaluate(
    tenants: Sequence[StoredTenant],
    cursor: ScheduleCursor,
    now: datetime,
    tags_for: TagsFor,
    queued: Mapping[str, str],
) -> Evaluation:
    """Every enabled tenant's due tick at `now`; `queued` maps a tenant to its scheduled run that is
    still waiting in the queue (a new one would only wait behind it, so none is requested)."""
    result = Evaluation(now, ScheduleCursor(evaluated_at=now, listed_at=cursor.listed_at))
    for tenant in tenants:
        if tenant.enabled:
            _tenant(result, tenant, cursor, tags_for, queued)
    for tenant_id in sorted(set(cursor.tenants) - set(result.cursor.tenants)):
        result.changed = True
        result.say("info", f"{tenant_id}: no longer scheduled (disabled or removed)")
    _listing(result)
    return result


def _tenant(
    result: Evaluation,
    tenant: StoredTenant,
    cursor: ScheduleCursor,
    tags_for: TagsFor,
    queued: Mapping[str, str],
) -> None:
    tenant_id, entry = tenant.tenant_id, cursor.tenants.get(tenant.tenant_id)
    schedule = tenant.schedule
    if schedule is None:
        _problem(result, tenant_id, f"{tenant.problem}; {config_fix(tenant_id)}", entry)
        return
    since = min(start_of(entry, cursor, result.now), result.now)
    outcome = due(schedule, since, result.now)
    result.upcoming.append((outcome.next_due, schedule))
    last = entry.last_requested if entry else None
    if entry is None or entry.schedule != schedule.label:
        result.changed = True
        was = f"changed from {entry.schedule} to" if entry else "scheduled"
        result.say("info", f"{tenant_id}: {was} {schedule.label}; next due {shown(outcome.next_due)}")
    if outcome.tick is not None:
        if outcome.missed:
            count = f"{outcome.missed}+" if outcome.missed >= MISSED_COUNT_CAP else str(outcome.missed)
            result.say(
                "warning",
                f"{tenant_id}: {count} earlier due tick(s) since {shown(since)} not requested (no "
                f"catch-up after downtime): only the latest, {shown(outcome.tick)}",
            )
        if tenant_id in queued:
            result.say(
                "info",
                f"{tenant_id}: the run due {shown(outcome.tick)} is not requested: its scheduled run "
                f"{queued[tenant_id]} is still queued and will read every change",
            )
        else:
            try:
                tags = tags_for(tenant_id)
            except Exception as exc:
                held = entry or TenantTicks(evaluated_until=since, schedule=schedule.label)
                _problem(result, tenant_id, f"{describe(exc)}; {fix_for(tenant_id, exc)}", held)
                return
            request = Request(tenant_id, outcome.tick, tags)
            result.requests.append(request)
            last = outcome.tick
            result.say(
                "info", f"{tenant_id}: requested the run due {shown(outcome.tick)} ({request.run_key})"
            )
    result.cursor.tenants[tenant_id] = TenantTicks(
        evaluated_until=result.now, schedule=schedule.label, last_requested=last
    )


def _problem(result: Evaluation, tenant_id: str, line: str, entry: TenantTicks | None) -> None:
    """Log it, keep the tenant's cursor entry where it was, and go on with the others."""
    result.problems[tenant_id] = line
    result.say("error", f"{tenant_id}: cannot schedule: {line}. Other tenants are not affected.")
    if entry is not None:
        result.cursor.tenants[tenant_id] = entry


def _listing(result: Evaluation) -> None:
    """Every tenant's next due time, soonest first, hourly and whenever a schedule came, changed or
    went."""
    listed = result.cursor.listed_at
    if not (result.changed or listed is None or result.now - listed >= LIST_EVERY):
        return
    result.cursor.listed_at = result.now
    lines = [f"next due per tenant ({len(result.upcoming)} scheduled):"]
    for when, schedule in sorted(result.upcoming, key=lambda item: (item[0], item[1].tenant_id)):
        entry = result.cursor.tenants.get(schedule.tenant_id)
        last = shown(entry.last_requested) if entry and entry.last_requested else "none yet"
        lines.append(f"  {shown(when)}  {schedule.tenant_id}  {schedule.label}  last requested: {last}")
    result.say("info", "\n".join(lines))
