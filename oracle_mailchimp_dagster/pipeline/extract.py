"""Step 1: read the customers a run must consider from Oracle Fusion.

`read_run` streams the run's records into a sink, a batch at a time, keeping the first record of each
key across every read of the run (the window, then due retries, then holders read again): the
extract step's sink spools them to disk (`pipeline.extract_spool`), `extract_customers` keeps them in
memory (small reads and tests).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from oracle_mailchimp_dagster.fusion import CustomerCursor, FusionCustomer, QuarantinedRow
from oracle_mailchimp_dagster.pipeline.ports import CustomerSource
from oracle_mailchimp_dagster.pipeline.quarantine import quarantine_key, quarantined_of
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.sync.customer import Customer

# Records handed to the sink at once: a few pages, whatever the window.
SINK_BATCH = 1000


class ExtractMode(StrEnum):
    """How a run chooses its customers."""

    INCREMENTAL = "incremental"  # changed since the high-water mark (with look-back), plus due retries
    FULL = "full"  # every customer (a full resync), plus due retries
    WINDOW = "window"  # LastUpdateDate in [since, until); the mark does not move
    KEYS = "keys"  # the given customer keys (replay of a run, or explicit keys); the mark does not move

    @property
    def advances_mark(self) -> bool:
        return self in (ExtractMode.INCREMENTAL, ExtractMode.FULL)


class FirstSeen:
    """The run's keys read so far, valid or quarantined; a key read twice keeps its first record.

    Valid records go to `sink` in batches as they stream. A stream's quarantined rows are known once
    it is iterated: one whose key came valid in the same stream is dropped (valid wins), as is one
    whose key an earlier read already had. Memory: the keys (~90 MB for a million) and the small
    quarantined rows.
    """

    def __init__(self, sink: Callable[[list[Customer]], None], batch: int = SINK_BATCH) -> None:
        self._sink = sink
        self._batch = batch
        self.keys: set[str] = set()
        self.quarantined: dict[str, QuarantinedRow] = {}

    def __contains__(self, key: object) -> bool:
        return key in self.keys or key in self.quarantined

    def __len__(self) -> int:
        return len(self.keys)

    def read(self, records: Iterable[FusionCustomer]) -> int:
        """Take every record of a stream or lookup, then what it quarantined; returns the new valid
        records."""
        taken = 0
        buffer: list[Customer] = []
        for record in records:
            customer = record.to_customer()
            if customer.key in self.keys or customer.key in self.quarantined:
                continue
            self.keys.add(customer.key)
            buffer.append(customer)
            if len(buffer) >= self._batch:
                self._sink(buffer)
                taken += len(buffer)
                buffer = []
        if buffer:
            self._sink(buffer)
            taken += len(buffer)
        for row in quarantined_of(records):
            key = quarantine_key(row)
            if key not in self.keys:
                self.quarantined.setdefault(key, row)
        return taken


@dataclass(frozen=True)
class RunWindow:
    """What a run read besides the records: the window, the marks, the due retries looked up."""

    mode: ExtractMode
    window_start: datetime | None
    window_end: datetime | None
    mark_before: HighWaterMark | None
    mark_candidate: HighWaterMark | None
    retry_keys: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)


def read_run(
    client: CustomerSource,
    mode: ExtractMode,
    seen: FirstSeen,
    *,
    mark: HighWaterMark | None,
    since: datetime | None = None,
    until: datetime | None = None,
    keys: Iterable[str] = (),
    retry_keys: Iterable[str] = (),
    now: datetime | None = None,
) -> RunWindow:
    """Read the run's customers into `seen`. Windows end at `now` (fixed for the run): records
    changing while paging move past it and are read by the next run, so none is read twice or missed.
    Records of a window may arrive in any order (the client may page slices concurrently)."""
    now = now or datetime.now(UTC)
    stats: dict[str, int] = {}
    window_start = window_end = None
    candidate = None
    if mode is ExtractMode.KEYS:
        seen.read(client.fetch_customers_by_numbers(keys))
    else:
        after = None
        if mode is ExtractMode.INCREMENTAL and mark is not None:
            after = CustomerCursor(mark.timestamp, mark.key)
        if mode is ExtractMode.WINDOW:
            window_start, window_end = since, until or now
        else:
            window_end = now
        extraction = client.extract_customers(since=window_start, until=window_end, after=after)
        seen.read(extraction)
        window_start = extraction.since
        stats.update(extraction.stats.snapshot())
        if extraction.cursor is not None:
            candidate = HighWaterMark(extraction.cursor.last_update_date, extraction.cursor.party_id)
    due = tuple(k for k in dict.fromkeys(retry_keys) if k not in seen)
    if due and mode is not ExtractMode.KEYS:
        seen.read(client.fetch_customers_by_numbers(due))
    stats["records"] = len(seen.keys)
    stats["quarantined"] = len(seen.quarantined)
    return RunWindow(mode, window_start, window_end, mark, candidate, due, stats)


@dataclass(frozen=True)
class CustomerExtract:
    """What a run read from Oracle, in memory: one typed `Customer` per key (first seen wins), the rows
    that did not validate (`quarantined`, small: keys and a reason; a key is in one or the other), and
    the window. For small reads; the extract step spools instead (`pipeline.extract_spool`)."""

    mode: ExtractMode
    customers: list[Customer]
    window_start: datetime | None
    window_end: datetime | None
    mark_before: HighWaterMark | None
    mark_candidate: HighWaterMark | None
    retry_keys: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    quarantined: tuple[QuarantinedRow, ...] = ()

    @property
    def advances_mark(self) -> bool:
        return self.mode.advances_mark


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
    """`read_run` into memory."""
    customers: list[Customer] = []
    seen = FirstSeen(customers.extend)
    window = read_run(
        client, mode, seen, mark=mark, since=since, until=until, keys=keys, retry_keys=retry_keys, now=now
    )
    return CustomerExtract(
        mode=mode,
        customers=customers,
        window_start=window.window_start,
        window_end=window.window_end,
        mark_before=mark,
        mark_candidate=window.mark_candidate,
        retry_keys=window.retry_keys,
        stats=window.stats,
        quarantined=tuple(seen.quarantined.values()),
    )
