"""Step 1: read the customers a run must consider from Oracle Fusion."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from oracle_mailchimp_dagster.fusion import CustomerCursor, FusionCustomer
from oracle_mailchimp_dagster.pipeline.ports import CustomerSource
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.sync.customer import Customer


class ExtractMode(StrEnum):
    """How a run chooses its customers."""

    INCREMENTAL = "incremental"  # changed since the high-water mark (with look-back), plus due retries
    FULL = "full"  # every customer (a full resync), plus due retries
    WINDOW = "window"  # LastUpdateDate in [since, until); the mark does not move
    KEYS = "keys"  # the given customer keys (replay of a run, or explicit keys); the mark does not move


@dataclass(frozen=True)
class CustomerExtract:
    """What a run read from Oracle: one typed `Customer` per key (first seen wins), and the window."""

    mode: ExtractMode
    customers: list[Customer]
    window_start: datetime | None
    window_end: datetime | None
    mark_before: HighWaterMark | None
    mark_candidate: HighWaterMark | None
    retry_keys: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def advances_mark(self) -> bool:
        return self.mode in (ExtractMode.INCREMENTAL, ExtractMode.FULL)


class _Collected:
    """The run's customers by key, in the order read; a key read twice keeps its first record."""

    def __init__(self) -> None:
        self.by_key: dict[str, Customer] = {}

    def add_all(self, records: Iterable[FusionCustomer]) -> None:
        for record in records:
            customer = record.to_customer()
            self.by_key.setdefault(customer.key, customer)


def extract_customers(
    client: CustomerSource,
    mode: ExtractMode,
    *,
    mark: HighWaterMark | None,
    since: datetime | None = None,
    until: datetime | None = None,
    keys: Iterable[str] = (),
    retry_keys: Iterable[str] = (),
    now: datetime | None = None,
) -> CustomerExtract:
    """Read the run's customers. Windows end at `now` (fixed for the run): records changing while
    paging move past it and are read by the next run, so none is read twice or missed."""
    now = now or datetime.now(UTC)
    stats: dict[str, int] = {}
    found = _Collected()
    window_start = window_end = None
    candidate = None
    if mode is ExtractMode.KEYS:
        found.add_all(client.fetch_customers_by_numbers(keys))
    else:
        after = None
        if mode is ExtractMode.INCREMENTAL and mark is not None:
            after = CustomerCursor(mark.timestamp, mark.key)
        if mode is ExtractMode.WINDOW:
            window_start, window_end = since, until or now
        else:
            window_end = now
        extraction = client.extract_customers(since=window_start, until=window_end, after=after)
        found.add_all(extraction)
        window_start = extraction.since
        stats.update(extraction.stats.snapshot())
        if extraction.cursor is not None:
            candidate = HighWaterMark(extraction.cursor.last_update_date, extraction.cursor.party_id)
    due = tuple(k for k in dict.fromkeys(retry_keys) if k not in found.by_key)
    if due and mode is not ExtractMode.KEYS:
        found.add_all(client.fetch_customers_by_numbers(due))
    stats["records"] = len(found.by_key)
    return CustomerExtract(
        mode=mode,
        customers=list(found.by_key.values()),
        window_start=window_start,
        window_end=window_end,
        mark_before=mark,
        mark_candidate=candidate,
        retry_keys=due,
        stats=stats,
    )
