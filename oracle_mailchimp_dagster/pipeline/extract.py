"""Step 1: read the customers a run must consider from Oracle Fusion."""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from oracle_mailchimp_dagster.fusion import CustomerCursor, FusionCustomer, QuarantinedRow
from oracle_mailchimp_dagster.pipeline.ports import CustomerSource
from oracle_mailchimp_dagster.pipeline.quarantine import quarantine_key, quarantined_of
from oracle_mailchimp_dagster.store.records import HighWaterMark
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.sync.customer import Customer
from oracle_mailchimp_dagster.sync.handover import addresses_left, holders_to_reread


class ExtractMode(StrEnum):
    """How a run chooses its customers."""

    INCREMENTAL = "incremental"  # changed since the high-water mark (with look-back), plus due retries
    FULL = "full"  # every customer (a full resync), plus due retries
    WINDOW = "window"  # LastUpdateDate in [since, until); the mark does not move
    KEYS = "keys"  # the given customer keys (replay of a run, or explicit keys); the mark does not move


@dataclass(frozen=True)
class CustomerExtract:
    """What a run read from Oracle: one typed `Customer` per key (first seen wins), the rows that did
    not validate (`quarantined`, small: keys and a reason; a key is in one or the other), and the
    window."""

    mode: ExtractMode
    customers: list[Customer]
    window_start: datetime | None
    window_end: datetime | None
    mark_before: HighWaterMark | None
    mark_candidate: HighWaterMark | None
    retry_keys: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    quarantined: tuple[QuarantinedRow, ...] = ()
    # Holders of a shared address read again because its writer moved away (`sync.handover`).
    holders_reread: tuple[str, ...] = ()

    @property
    def advances_mark(self) -> bool:
        return self.mode in (ExtractMode.INCREMENTAL, ExtractMode.FULL)


class _Collected:
    """The run's customers and quarantined rows by key, in the order read; a key read twice keeps its
    first record, valid or quarantined."""

    def __init__(self) -> None:
        self.by_key: dict[str, Customer] = {}
        self.quarantined: dict[str, QuarantinedRow] = {}

    def __contains__(self, key: str) -> bool:
        return key in self.by_key or key in self.quarantined

    def read(self, records: Iterable[FusionCustomer]) -> None:
        """Take every record of a stream or lookup, then what it quarantined (known once iterated)."""
        for record in records:
            customer = record.to_customer()
            if customer.key not in self.quarantined:
                self.by_key.setdefault(customer.key, customer)
        for row in quarantined_of(records):
            key = quarantine_key(row)
            if key not in self.by_key:
                self.quarantined.setdefault(key, row)


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
        found.read(client.fetch_customers_by_numbers(keys))
    else:
        after = None
        if mode is ExtractMode.INCREMENTAL and mark is not None:
            after = CustomerCursor(mark.timestamp, mark.key)
        if mode is ExtractMode.WINDOW:
            window_start, window_end = since, until or now
        else:
            window_end = now
        extraction = client.extract_customers(since=window_start, until=window_end, after=after)
        found.read(extraction)
        window_start = extraction.since
        stats.update(extraction.stats.snapshot())
        if extraction.cursor is not None:
            candidate = HighWaterMark(extraction.cursor.last_update_date, extraction.cursor.party_id)
    due = tuple(k for k in dict.fromkeys(retry_keys) if k not in found)
    if due and mode is not ExtractMode.KEYS:
        found.read(client.fetch_customers_by_numbers(due))
    stats["records"] = len(found.by_key)
    stats["quarantined"] = len(found.quarantined)
    return CustomerExtract(
        mode=mode,
        customers=list(found.by_key.values()),
        window_start=window_start,
        window_end=window_end,
        mark_before=mark,
        mark_candidate=candidate,
        retry_keys=due,
        stats=stats,
        quarantined=tuple(found.quarantined.values()),
    )


def with_address_holders(
    extract: CustomerExtract, client: CustomerSource, store: SyncStore, tenant_id: str
) -> CustomerExtract:
    """The extract plus the other holders of every shared address whose writer the batch moves away or
    inactivates, read again by key, so the member takes the next newest holder's data."""
    # The batch's own states tell which addresses lose their writer; only those are looked up by
    # address (usually none, so no second query).
    states = store.members.by_keys(tenant_id, [c.key for c in extract.customers])
    left = addresses_left(extract.customers, states)
    if not left:
        return extract
    for holder in store.members.by_subscriber_hashes(tenant_id, left):
        states.setdefault(holder.customer_key, holder)
    keys = sorted(holders_to_reread(extract.customers, states))
    if not keys:
        return extract
    found = _Collected()
    found.read(client.fetch_customers_by_numbers(keys))
    known = {c.key for c in extract.customers} | {quarantine_key(q) for q in extract.quarantined}
    extra = [c for key, c in found.by_key.items() if key not in known]
    quarantined = [q for key, q in found.quarantined.items() if key not in known]
    return replace(
        extract,
        customers=[*extract.customers, *extra],
        quarantined=(*extract.quarantined, *quarantined),
        holders_reread=tuple(c.key for c in extra),
    )
