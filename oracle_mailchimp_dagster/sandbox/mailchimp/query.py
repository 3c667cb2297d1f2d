"""Query parameters of collection reads: paging, typed parameters, member and segment filters (§3.8)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from oracle_mailchimp_dagster.sandbox.mailchimp import problems
from oracle_mailchimp_dagster.sandbox.mailchimp.clock import parse_iso
from oracle_mailchimp_dagster.sandbox.mailchimp.models import ALL_STATUSES, Member, Segment
from oracle_mailchimp_dagster.sandbox.mailchimp.problems import FieldError

MAX_COUNT = 1000
SORT_FIELDS = ("timestamp_opt", "timestamp_signup", "last_changed")
SEGMENT_TYPES = ("saved", "static", "fuzzy")

T = TypeVar("T")


def _integer(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise problems.schema_errors(
            [FieldError(name, "Schema describes integer, string found instead")]
        ) from None
    if value < 0:
        raise problems.schema_errors([FieldError(name, f"Must have a minimum value of 0: {name}")])
    return value


@dataclass(frozen=True)
class Page:
    count: int
    offset: int

    def slice(self, items: Sequence[T]) -> list[T]:
        return list(items[self.offset : self.offset + self.count])


def page(params: Mapping[str, str]) -> Page:
    """`count` defaults to 10 and is silently clamped to 1000 (not an error, unlike the spec says)."""
    return Page(min(_integer(params, "count", 10), MAX_COUNT), _integer(params, "offset", 0))


def enum_param(params: Mapping[str, str], name: str, accepted: Iterable[str]) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    options = list(accepted)
    if value not in options:
        message = f"Data presented is not one of the accepted values: {', '.join(options)}."
        raise problems.schema_errors([FieldError(name, message)])
    return value


def moment_param(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise problems.schema_errors([FieldError(name, "Please provide a valid ISO 8601 date")]) from None


def _timestamp(text: str) -> datetime | None:
    try:
        return parse_iso(text) if text else None
    except ValueError:
        return None


def bool_param(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "").lower() in ("true", "1")


def select_members(
    members: Iterable[Member], params: Mapping[str, str], *, include_archived: bool, since_inclusive: bool
) -> list[Member]:
    """The members a `GET /lists/{id}/members` query matches, sorted as asked (default: oldest first)."""
    status = enum_param(params, "status", ALL_STATUSES)
    sort_field = enum_param(params, "sort_field", SORT_FIELDS)
    sort_dir = enum_param(params, "sort_dir", ("ASC", "DESC")) or "ASC"
    email_type = params.get("email_type") or None
    unique_email_id = params.get("unique_email_id") or None
    vip_only = bool_param(params, "vip_only")
    since_changed = moment_param(params, "since_last_changed")
    before_changed = moment_param(params, "before_last_changed")
    since_opt = moment_param(params, "since_timestamp_opt")
    before_opt = moment_param(params, "before_timestamp_opt")
    unsubscribed_since = moment_param(params, "unsubscribed_since") if status == "unsubscribed" else None

    def after(moment: datetime | None, bound: datetime) -> bool:
        if moment is None:
            return False
        return moment >= bound if since_inclusive else moment > bound

    selected = []
    for member in members:
        if status is not None and member.status != status:
            continue
        if status is None and member.status == "archived" and not include_archived:
            continue
        if email_type is not None and member.email_type != email_type:
            continue
        if unique_email_id is not None and member.unique_email_id != unique_email_id:
            continue
        if vip_only and not member.vip:
            continue
        if since_changed is not None and not after(member.last_changed, since_changed):
            continue
        if before_changed is not None and not member.last_changed < before_changed:
            continue
        if since_opt is not None or before_opt is not None:
            opt = _timestamp(member.timestamp_opt)
            if since_opt is not None and not after(opt, since_opt):
                continue
            if before_opt is not None and not (opt is not None and opt < before_opt):
                continue
        if unsubscribed_since is not None and not after(member.unsubscribed_at, unsubscribed_since):
            continue
        selected.append(member)
    if sort_field is None:
        selected.sort(key=lambda m: m.seq)
        return selected
    minimum = datetime.min.replace(tzinfo=UTC)

    def key(member: Member) -> tuple[datetime, int]:
        if sort_field == "last_changed":
            return (member.last_changed, member.seq)
        return (_timestamp(getattr(member, sort_field)) or minimum, member.seq)

    selected.sort(key=key, reverse=sort_dir == "DESC")
    return selected


def select_segments(
    segments: Iterable[Segment], params: Mapping[str, str], *, since_inclusive: bool
) -> list[Segment]:
    """The segments a `GET /lists/{id}/segments` query matches, oldest first (all simulated are static)."""
    kind = enum_param(params, "type", SEGMENT_TYPES)
    bounds = [
        (moment_param(params, f"since_{name}"), moment_param(params, f"before_{name}"), name)
        for name in ("created_at", "updated_at")
    ]

    def matches(segment: Segment) -> bool:
        for since, before, name in bounds:
            moment: datetime = getattr(segment, name)
            if since is not None and not (moment >= since if since_inclusive else moment > since):
                return False
            if before is not None and not moment < before:
                return False
        return True

    if kind not in (None, "static"):
        return []
    return sorted((s for s in segments if matches(s)), key=lambda s: s.id)
