"""Step 1: read the customers a run must consider from Oracle Fusion."""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pandas as pd

from oracle_mailchimp_dagster.fusion import CustomerCursor, FusionClient, FusionCustomer
from oracle_mailchimp_dagster.store.records import HighWaterMark


class ExtractMode(StrEnum):
    """How a run chooses its customers."""

    INCREMENTAL = "incremental"  # changed since the high-water mark (with look-back), plus due retries
    FULL = "full"  # every customer (a full resync), plus due retries
    WINDOW = "window"  # LastUpdateDate in [since, until); the mark does not move
    KEYS = "keys"  # the given customer keys (replay of a run, or explicit keys); the mark does not move


@dataclass(frozen=True)
class CustomerExtract:
    """What a run read from Oracle: the records as a frame (Oracle attribute names), and the window."""

    mode: ExtractMode
    records: pd.DataFrame
    window_start: datetime | None
    window_end: datetime | None
    mark_before: HighWaterMark | None
    mark_candidate: HighWaterMark | None
    retry_keys: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def advances_mark(self) -> bool:
        return self.mode in (ExtractMode.INCREMENTAL, ExtractMode.FULL)

    def rows(self) -> list[Mapping[str, Any]]:
        """The records as read-only mappings by Oracle attribute name (light views over the frame)."""
        return [RowView(row) for row in self.records.itertuples(index=False, name="Customer")]


class RowView(Mapping[str, Any]):
    """A mapping over one frame row (a namedtuple): a tenth of the memory of a dict per row."""

    __slots__ = ("_row",)

    def __init__(self, row: tuple[Any, ...]) -> None:
        self._row = row

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self._row, key)
        except AttributeError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._row._fields)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self._row)


COLUMNS = tuple(FusionCustomer.model_fields[name].alias or name for name in FusionCustomer.model_fields)
_ATTRIBUTES = tuple(FusionCustomer.model_fields)


class _FrameBuilder:
    """Collects customers column by column (no per-row dict or model kept), one row per key."""

    def __init__(self) -> None:
        self.columns: list[list[Any]] = [[] for _ in COLUMNS]
        self.keys: set[str] = set()

    def add(self, customer: FusionCustomer) -> None:
        key = customer.party_number or f"PartyId:{customer.party_id}"
        if key in self.keys:
            return
        self.keys.add(key)
        for column, attribute in zip(self.columns, _ATTRIBUTES, strict=True):
            column.append(getattr(customer, attribute))

    def frame(self) -> pd.DataFrame:
        data = {
            name: pd.Series(values, dtype=object) for name, values in zip(COLUMNS, self.columns, strict=True)
        }
        return pd.DataFrame(data, columns=list(COLUMNS))


def customer_frame(customers: Iterable[FusionCustomer]) -> pd.DataFrame:
    """Rows keyed by Oracle attribute name, with None kept as None (object dtype, no NaN/NaT)."""
    builder = _FrameBuilder()
    for customer in customers:
        builder.add(customer)
    return builder.frame()


def extract_customers(
    client: FusionClient,
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
    found = _FrameBuilder()
    window_start = window_end = None
    candidate = None
    if mode is ExtractMode.KEYS:
        for customer in client.fetch_customers_by_numbers(keys):
            found.add(customer)
    else:
        after = None
        if mode is ExtractMode.INCREMENTAL and mark is not None:
            after = CustomerCursor(mark.timestamp, mark.key)
        if mode is ExtractMode.WINDOW:
            window_start, window_end = since, until or now
        else:
            window_end = now
        extraction = client.extract_customers(since=window_start, until=window_end, after=after)
        for customer in extraction:
            found.add(customer)
        window_start = extraction.since
        stats.update(extraction.stats.snapshot())
        if extraction.cursor is not None:
            candidate = HighWaterMark(extraction.cursor.last_update_date, extraction.cursor.party_id)
    due = tuple(k for k in dict.fromkeys(retry_keys) if k not in found.keys)
    if due and mode is not ExtractMode.KEYS:
        for customer in client.fetch_customers_by_numbers(due):
            found.add(customer)
    stats["records"] = len(found.keys)
    return CustomerExtract(
        mode=mode,
        records=found.frame(),
        window_start=window_start,
        window_end=window_end,
        mark_before=mark,
        mark_candidate=candidate,
        retry_keys=due,
        stats=stats,
    )
