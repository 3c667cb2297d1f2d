"""Keyset paging over (LastUpdateDate, PartyId) as a pure state machine: which q next, what is new.

Each page continues strictly after the last row seen, so rows sharing a timestamp are neither
skipped nor repeated, and no offset ever grows. Framework 2+ says that in one rowmatch expression.
Framework 1 cannot OR across attributes, so it re-reads from the last timestamp (`>=`) and drops
what it has already seen; when that timestamp holds more than a tenth of a page it switches to an
exact ties query (`LastUpdateDate=T;PartyId>N`) and then resumes strictly after T.

The pager reads only the keys of a row, so a quarantined row moves the cursor exactly as a valid one.
Its end can be brought forward while it pages (`narrow`, when a sliced extraction hands the rest of
a slice to another worker): rows of a page already asked for that fall at or past the new end are
not its rows, so they are dropped, and the first of them ends the pass.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Generic, Protocol, TypeVar

from oracle_mailchimp_dagster.fusion.query import (
    CustomerCursor,
    after_cursor_q,
    range_q,
    ties_q,
)


class _Next(Enum):
    START = "start"
    FROM_CURSOR = "from_cursor"  # v2+: strictly after the cursor; v1: >= its timestamp, drop seen
    TIES = "ties"  # v1 only: same timestamp, larger PartyId
    AFTER_TIES = "after_ties"  # v1 only: strictly after the cursor's timestamp


class Keyed(Protocol):
    """A row as the keyset sees it: a FusionCustomer or a QuarantinedRow."""

    @property
    def party_id(self) -> int: ...

    @property
    def last_update_date(self) -> datetime: ...


RowT = TypeVar("RowT", bound=Keyed)


@dataclass
class PageResult(Generic[RowT]):
    """What one page contributed: rows never seen before and rows dropped as already seen."""

    new_rows: list[RowT]
    dropped: int


class NoProgressError(Exception):
    """The pod claims more rows but returned none after the cursor: paging would never end."""


def cursor_of(row: Keyed) -> CustomerCursor:
    return CustomerCursor(row.last_update_date, row.party_id)


class KeysetPager:
    """Plans each page's `q` and filters its rows; `done` once the window is exhausted."""

    def __init__(
        self,
        framework_version: int,
        page_size: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: CustomerCursor | None = None,
    ) -> None:
        self.version = framework_version
        self.page_size = page_size
        self.since = since
        self.until = until
        self.cursor = after
        self.done = False
        self._next = _Next.FROM_CURSOR if after is not None else _Next.START
        self._tie_threshold = page_size // 10

    def next_q(self) -> str | None:
        """The `q` for the next page (None: no filter at all)."""
        if self._next is _Next.START or self.cursor is None:
            return range_q(self.version, since=self.since, until=self.until)
        if self._next is _Next.TIES:
            return ties_q(self.version, self.cursor)
        if self._next is _Next.AFTER_TIES:
            return range_q(
                self.version, since=self.cursor.last_update_date, until=self.until, strict_since=True
            )
        if self.version >= 2:
            return after_cursor_q(self.version, self.cursor, self.until)
        return range_q(self.version, since=self.cursor.last_update_date, until=self.until)

    def narrow(self, until: datetime) -> None:
        """End the window earlier, at `until` (exclusive), which must lie past the cursor."""
        if self.until is not None and until >= self.until:
            raise ValueError("narrow can only bring the end forward")
        if self.cursor is not None and self.cursor.last_update_date >= until:
            raise ValueError("narrow cannot end the window before the rows already read")
        self.until = until

    def accept(self, rows: Sequence[RowT], has_more: bool) -> PageResult[RowT]:
        """Take one page (in server order) and decide the next query."""
        until = self.until
        beyond = 0
        if until is not None:
            kept = [row for row in rows if row.last_update_date < until]
            beyond, rows = len(rows) - len(kept), kept
        cursor = self.cursor
        new_rows = [row for row in rows if cursor is None or cursor_of(row) > cursor]
        if new_rows:
            self.cursor = max(cursor_of(row) for row in new_rows)
        result = PageResult(new_rows, len(rows) - len(new_rows))
        more = has_more and len(rows) > 0 and not beyond
        if self._next is _Next.TIES:
            if not more:
                self._next = _Next.AFTER_TIES
            elif not new_rows:
                raise NoProgressError("ties page returned no row after the cursor")
            return result
        if not more:
            self.done = True
            return result
        if self.version >= 2:
            if not new_rows:
                raise NoProgressError("page returned no row after the cursor")
            self._next = _Next.FROM_CURSOR
            return result
        assert self.cursor is not None
        # Re-reading from the cursor's timestamp costs the rows already seen there; when they are many
        # (or are the whole page, which would never progress), ask for the rest of that timestamp exactly.
        ties_on_page = sum(1 for row in rows if row.last_update_date == self.cursor.last_update_date)
        crowded = ties_on_page > self._tie_threshold or not new_rows
        self._next = _Next.TIES if crowded else _Next.FROM_CURSOR
        return result
