"""Query execution: candidates from the index, the residual predicate, ordering and the page window.

The planner narrows candidates to an index range (or pinned slots). When the requested order is the
index's own (LastUpdateDate, PartyId) or PartyId order, candidates stream in that order and evaluation
stops one match past the page; when the range alone decides the predicate, the page is sliced directly.
Any other order sorts the matching records.
"""

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, overload

from oracle_mailchimp_dagster.sandbox.fusion.query.ast import Node
from oracle_mailchimp_dagster.sandbox.fusion.query.evaluate import Predicate, compile_predicate
from oracle_mailchimp_dagster.sandbox.fusion.query.plan import key_range, point_slots
from oracle_mailchimp_dagster.sandbox.fusion.schema import Record
from oracle_mailchimp_dagster.sandbox.fusion.store import CustomerStore

OrderTerm = tuple[str, bool]
OrderKind = Literal["index", "slot", "unordered", "sort"]


@dataclass(frozen=True)
class Window:
    offset: int
    limit: int
    want_total: bool = False


@dataclass(frozen=True)
class Selection:
    """One page of matching records; `total` is None when it was neither needed nor requested."""

    records: list[Record]
    has_more: bool
    total: int | None


def order_kind(order: tuple[OrderTerm, ...]) -> tuple[OrderKind, bool]:
    """How an orderBy maps onto the store: index order, slot (PartyId) order, none, or a sort."""
    if not order:
        return "unordered", False
    first, descending = order[0]
    if first == "PartyId":
        return "slot", descending
    if first == "LastUpdateDate" and (len(order) == 1 or order[1] == ("PartyId", descending)):
        return "index", descending
    return "sort", False


class AffineRun(Sequence[int]):
    """The implicit order without orderBy: a fixed permutation of slots, stable but not PartyId order."""

    def __init__(self, size: int) -> None:
        self._size = size
        step = max(1, int(size * 0.6180339887))
        while math.gcd(step, size) != 1 and step < size:
            step += 1
        self._step = step % size if size > 1 else 1
        self._start = size // 3

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, i: int) -> int: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[int]: ...
    def __getitem__(self, i: int | slice) -> int | Sequence[int]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._size))]
        if not 0 <= i < self._size:
            raise IndexError(i)
        return (i * self._step + self._start) % self._size

    def __iter__(self) -> Iterator[int]:
        size, step, slot = self._size, self._step, self._start
        for _ in range(size):
            yield slot
            slot = (slot + step) % size

    def rank(self, slot: int) -> int:
        return ((slot - self._start) * pow(self._step, -1, self._size)) % self._size if self._size > 1 else 0


def select(
    store: CustomerStore,
    predicate: Node | None,
    order: tuple[OrderTerm, ...],
    window: Window,
    index: Mapping[str, int],
    shuffle: random.Random | None = None,
) -> Selection:
    """The page `window` of customers matching `predicate` in `order` (caller holds `store.lock`)."""
    pinned = point_slots(predicate)
    keyed = key_range(predicate)
    if keyed.empty:
        return Selection([], False, 0)
    residual = (
        None if predicate is None or (keyed.exact and pinned is None) else compile_predicate(predicate, index)
    )
    kind, descending = order_kind(order)
    candidates: Sequence[int]
    if pinned is not None:
        candidates = sorted(slot for slot in pinned if slot < store.size)
        if kind == "index":
            candidates.sort(key=store.index_key, reverse=descending)
        elif kind == "slot" and descending:
            candidates.reverse()
        elif kind == "unordered":
            candidates.sort(key=AffineRun(store.size).rank)
    elif kind == "index":
        start, stop = store.positions(keyed)
        candidates = store.index_run(start, stop, descending)
    elif kind == "unordered" and shuffle is None and keyed.unbounded:
        candidates = AffineRun(store.size)
    elif kind == "slot" and keyed.unbounded:
        candidates = range(store.size - 1, -1, -1) if descending else range(store.size)
    else:
        start, stop = store.positions(keyed)
        candidates = list(store.index_run(start, stop))
        if kind == "slot":
            candidates.sort(reverse=descending)
        elif kind == "unordered":
            if shuffle is not None:
                shuffle.shuffle(candidates)
            else:
                candidates.sort(key=AffineRun(store.size).rank)
    if kind == "sort":
        return _sorted_page(store, candidates, residual, order, window, index)
    return _streamed_page(store, candidates, residual, window)


def _streamed_page(
    store: CustomerStore, candidates: Sequence[int], residual: Predicate | None, window: Window
) -> Selection:
    offset, end = window.offset, window.offset + window.limit
    if residual is None:
        total = len(candidates)
        page = [store.record(candidates[i]) for i in range(offset, min(end, total))]
        return Selection(page, end < total, total)
    records: list[Record] = []
    matched = 0
    for slot in candidates:
        record = store.record(slot)
        if residual(record) is True:
            if offset <= matched < end:
                records.append(record)
            matched += 1
            if matched > end and not window.want_total:
                return Selection(records, True, None)
    return Selection(records, matched > end, matched)


def _sorted_page(
    store: CustomerStore,
    candidates: Sequence[int],
    residual: Predicate | None,
    order: tuple[OrderTerm, ...],
    window: Window,
    index: Mapping[str, int],
) -> Selection:
    records = [store.record(slot) for slot in candidates]
    if residual is not None:
        records = [record for record in records if residual(record) is True]
    for attr, descending in reversed(order):
        i = index[attr]
        # Oracle puts nulls last ascending and first descending.
        records.sort(key=lambda r, i=i: (r[i] is None, r[i]), reverse=descending)  # type: ignore[misc]
    end = window.offset + window.limit
    return Selection(records[window.offset : end], end < len(records), len(records))
