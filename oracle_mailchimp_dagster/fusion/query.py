"""The `q` grammar of both ADF framework generations, as pure functions.

Framework 1 is query-by-example: `;` joins expressions with AND, a second comparison on the same
attribute needs no name (`LastUpdateDate>=A and <B`), values are unquoted, and there is no OR across
attributes. Framework 2 and later use rowmatch: SQL-like, quoted literals, parentheses, and/or.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

ORDER_BY = "LastUpdateDate:asc,PartyId:asc"


@dataclass(frozen=True, order=True)
class CustomerCursor:
    """A position in the (LastUpdateDate, PartyId) order: the high-water mark and paging keyset."""

    last_update_date: datetime
    party_id: int

    def __post_init__(self) -> None:
        if self.last_update_date.tzinfo is None:
            raise ValueError("CustomerCursor.last_update_date must be timezone-aware")


def timestamp_literal(value: datetime, framework_version: int) -> str:
    """A UTC timestamp at Oracle's millisecond precision, spelled for the framework version."""
    if value.tzinfo is None:
        raise ValueError("timestamps sent to Oracle must be timezone-aware")
    text = value.astimezone(UTC).isoformat(timespec="milliseconds")
    if framework_version >= 2:
        return f"'{text}'"
    return text.replace("+00:00", "Z")


def range_q(
    framework_version: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    strict_since: bool = False,
) -> str | None:
    """`since <= LastUpdateDate < until` (or `since <` when strict); None when unbounded."""
    low_op = ">" if strict_since else ">="
    if framework_version >= 2:
        parts = []
        if since is not None:
            parts.append(f"LastUpdateDate {low_op} {timestamp_literal(since, framework_version)}")
        if until is not None:
            parts.append(f"LastUpdateDate < {timestamp_literal(until, framework_version)}")
        return " and ".join(parts) or None
    comparisons = []
    if since is not None:
        comparisons.append(f"{low_op}{timestamp_literal(since, framework_version)}")
    if until is not None:
        comparisons.append(f"<{timestamp_literal(until, framework_version)}")
    return "LastUpdateDate" + " and ".join(comparisons) if comparisons else None


def after_cursor_q(framework_version: int, cursor: CustomerCursor, until: datetime | None) -> str:
    """Rows strictly after `cursor` in (LastUpdateDate, PartyId) order and before `until` (rowmatch).

    The canonical keyset predicate: an index on (LastUpdateDate, PartyId) answers it as one range.
    """
    if framework_version < 2:
        raise ValueError("framework 1 cannot express OR across attributes; use ties_q then range_q")
    ts = timestamp_literal(cursor.last_update_date, framework_version)
    keyset = f"(LastUpdateDate > {ts} or (LastUpdateDate = {ts} and PartyId > {cursor.party_id}))"
    if until is None:
        return keyset
    return f"{keyset} and LastUpdateDate < {timestamp_literal(until, framework_version)}"


def ties_q(framework_version: int, cursor: CustomerCursor) -> str:
    """Rows sharing the cursor's LastUpdateDate with a larger PartyId."""
    ts = timestamp_literal(cursor.last_update_date, framework_version)
    if framework_version >= 2:
        return f"LastUpdateDate = {ts} and PartyId > {cursor.party_id}"
    return f"LastUpdateDate={ts};PartyId>{cursor.party_id}"


def changed_after_q(framework_version: int, after: datetime) -> str:
    """The probe's filter: anything with LastUpdateDate strictly after `after`."""
    q = range_q(framework_version, since=after, strict_since=True)
    assert q is not None
    return q


def party_ids_q(framework_version: int, party_ids: list[int]) -> str:
    """Exact-match lookup of several customers by PartyId."""
    if not party_ids:
        raise ValueError("party_ids must not be empty")
    if framework_version >= 2:
        return f"PartyId IN ({','.join(str(p) for p in party_ids)})"
    return "PartyId" + " or ".join(f"={p}" for p in party_ids)


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def party_numbers_q(framework_version: int, party_numbers: list[str]) -> str:
    """Exact-match lookup of several customers by PartyNumber (the key users see)."""
    if not party_numbers:
        raise ValueError("party_numbers must not be empty")
    if framework_version >= 2:
        return f"PartyNumber IN ({','.join(_quoted(n) for n in party_numbers)})"
    return "PartyNumber" + " or ".join(f"={_quoted(n)}" for n in party_numbers)
