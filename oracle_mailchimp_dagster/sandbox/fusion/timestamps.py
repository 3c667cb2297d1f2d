"""Oracle timestamps: parse `q` literals to epoch milliseconds, format values as Fusion emits them.

Fusion stores UTC and emits `2020-07-17T12:57:05.744+00:00`; comparisons happen at millisecond precision,
so the sandbox keeps every timestamp as an integer count of milliseconds since the Unix epoch.
"""

import re
from datetime import UTC, datetime, timedelta, timezone

_LITERAL = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?"
    r"(?P<offset>Z|[+-]\d{2}:?\d{2})?)?"
)
_MS_PER_DAY = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_day_prefixes: dict[int, str] = {}


def parse_timestamp(text: str) -> int:
    """Epoch milliseconds of `YYYY-MM-DD[THH:MM[:SS[.fff]][Z|±HH:MM]]`; no offset means UTC.

    Raises ValueError for anything else (a bare year, a space for `T`, an offset without a time).
    """
    match = _LITERAL.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a timestamp like 2024-01-31T09:30:00.000+00:00")
    year, month, day = (int(part) for part in match["date"].split("-"))
    fraction = (match["fraction"] or "")[:3].ljust(3, "0")
    offset = match["offset"]
    tz = UTC
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    moment = datetime(
        year,
        month,
        day,
        int(match["hour"] or 0),
        int(match["minute"] or 0),
        int(match["second"] or 0),
        int(fraction) * 1000,
        tzinfo=tz,
    )
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_timestamp(ms: int) -> str:
    """`2020-07-17T12:57:05.744+00:00` for epoch milliseconds (the hot path of every page)."""
    day, in_day = divmod(ms, _MS_PER_DAY)
    prefix = _day_prefixes.get(day)
    if prefix is None:
        if len(_day_prefixes) > 200_000:
            _day_prefixes.clear()
        prefix = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
        _day_prefixes[day] = prefix
    seconds, millis = divmod(in_day, 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{prefix}T{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}+00:00"


def to_millis(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
