"""Oracle Fusion in memory: customers read in the real keyset order, so assets run without a pod.

It keeps the contract the pipeline relies on (`pipeline.ports.CustomerSource`): a window is
`since <= LastUpdateDate < until`, resuming `after` a cursor reads strictly past it (or from a
look-back before it, as the real client does with an overlap), and the stream's `cursor` is the
last row read, never before the mark it resumed from.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from oracle_mailchimp_dagster.fusion import CustomerCursor, FusionCustomer
from oracle_mailchimp_dagster.fusion.keyset import cursor_of
from oracle_mailchimp_dagster.http import CallCounters

_LOOKUP_CHUNK = 100


@dataclass(frozen=True)
class FusionCall:
    """One call: `extract_customers` (its window), a lookup by numbers, or the change probe."""

    method: str
    since: datetime | None = None
    until: datetime | None = None
    after: CustomerCursor | None = None
    numbers: tuple[str, ...] = ()
    changed_after: datetime | None = None


class InMemoryCustomerStream:
    """One pass over a window's rows; like the real extraction, it may be iterated once."""

    def __init__(
        self,
        rows: list[FusionCustomer],
        *,
        since: datetime | None,
        resume: CustomerCursor | None,
        page_size: int,
        client_stats: CallCounters,
    ) -> None:
        self.since = since
        self.stats = CallCounters()
        self._rows = rows
        self._resume = resume
        self._page_size = page_size
        self._client_stats = client_stats
        self._last: CustomerCursor | None = None
        self._started = False

    @property
    def cursor(self) -> CustomerCursor | None:
        if self._last is None or self._resume is None:
            return self._last or self._resume
        return max(self._last, self._resume)

    def __iter__(self) -> Iterator[FusionCustomer]:
        if self._started:
            raise RuntimeError("a customer stream can be iterated only once")
        self._started = True
        return self._pages()

    def _pages(self) -> Iterator[FusionCustomer]:
        size = self._page_size
        for start in range(0, max(len(self._rows), 1), size):
            page = self._rows[start : start + size]
            for counters in (self.stats, self._client_stats):
                counters.add("http_calls")
            self.stats.add("pages")
            self.stats.add("records", len(page))
            for row in page:
                self._last = cursor_of(row)
                yield row


class InMemoryFusion:
    """One tenant's customers by PartyId; `put` adds or changes them between runs."""

    def __init__(
        self,
        customers: Iterable[FusionCustomer] = (),
        *,
        overlap: timedelta = timedelta(0),
        page_size: int = 500,
    ) -> None:
        self.overlap = overlap
        self.page_size = page_size
        self.stats = CallCounters()
        self.calls: list[FusionCall] = []
        self._customers: dict[int, FusionCustomer] = {}
        self.put(*customers)

    def put(self, *customers: FusionCustomer) -> None:
        for customer in customers:
            self._customers[customer.party_id] = customer

    @property
    def customers(self) -> list[FusionCustomer]:
        """Every customer in keyset order (LastUpdateDate, PartyId)."""
        return sorted(self._customers.values(), key=cursor_of)

    def __enter__(self) -> "InMemoryFusion":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def extract_customers(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: CustomerCursor | None = None,
    ) -> InMemoryCustomerStream:
        for name, value in (("since", since), ("until", until)):
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware")
        self.calls.append(FusionCall("extract_customers", since=since, until=until, after=after))
        resume = after
        if after is not None and self.overlap > timedelta(0):
            since, after = after.last_update_date - self.overlap, None
        rows = [
            row
            for row in self.customers
            if (since is None or row.last_update_date >= since)
            and (until is None or row.last_update_date < until)
            and (after is None or cursor_of(row) > after)
        ]
        return InMemoryCustomerStream(
            rows, since=since, resume=resume, page_size=self.page_size, client_stats=self.stats
        )

    def fetch_customers_by_numbers(self, party_numbers: Iterable[str]) -> list[FusionCustomer]:
        numbers = sorted(set(party_numbers))
        self.calls.append(FusionCall("fetch_customers_by_numbers", numbers=tuple(numbers)))
        for _ in range(0, len(numbers), _LOOKUP_CHUNK):
            self.stats.add("http_calls")
            self.stats.add("pages")
        wanted = set(numbers)
        return sorted(
            (c for c in self._customers.values() if c.party_number in wanted), key=lambda c: c.party_id
        )

    def has_changes_after(self, after: datetime) -> bool:
        self.calls.append(FusionCall("has_changes_after", changed_after=after))
        self.stats.add("http_calls")
        return any(c.last_update_date > after for c in self._customers.values())
