"""The customer master: generated base records, an overlay of changed ones, and the sorted index.

Memory stays small for a million customers: base records are regenerated on demand from (seed, slot), only
changed or created records are kept (the overlay), and the index is one sorted `array('Q')` of packed
(LastUpdateDate, slot) keys plus one `array('q')` of LastUpdateDate per slot. Readers and writers take
`lock` (the server's event loop and test threads may both touch the store).
"""

import threading
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator, Mapping, Sequence
from typing import overload

from oracle_mailchimp_dagster.sandbox.fusion import keys
from oracle_mailchimp_dagster.sandbox.fusion.generator import CustomerGenerator
from oracle_mailchimp_dagster.sandbox.fusion.query.plan import KeyRange
from oracle_mailchimp_dagster.sandbox.fusion.schema import LAST_UPDATE_DATE, PARTY_ID, Record

_BULK_THRESHOLD = 64
_CHUNK = 2048


class IndexRun(Sequence[int]):
    """Slots of index positions [start, stop), ascending or descending, without copying them."""

    def __init__(self, index: array, start: int, stop: int, descending: bool) -> None:
        self._index = index
        self._start = start
        self._stop = max(start, stop)
        self._descending = descending

    def __len__(self) -> int:
        return self._stop - self._start

    @overload
    def __getitem__(self, i: int) -> int: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[int]: ...
    def __getitem__(self, i: int | slice) -> int | Sequence[int]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        position = self._stop - 1 - i if self._descending else self._start + i
        return self._index[position] & keys.SLOT_MASK

    def __iter__(self) -> Iterator[int]:
        """Lazily, a chunk at a time: a filtered scan usually stops long before the end of the run."""
        mask = keys.SLOT_MASK
        start, stop = self._start, self._stop
        if self._descending:
            for high in range(stop, start, -_CHUNK):
                chunk = self._index[max(start, high - _CHUNK) : high]
                for key in reversed(chunk):
                    yield key & mask
        else:
            for low in range(start, stop, _CHUNK):
                for key in self._index[low : min(stop, low + _CHUNK)]:
                    yield key & mask


class CustomerStore:
    """All customers by slot, with the (LastUpdateDate, PartyId) index kept in step with every change."""

    def __init__(self, generator: CustomerGenerator) -> None:
        self.lock = threading.RLock()
        self._generator = generator
        self._overlay: dict[int, Record] = {}
        last_updates = [generator.timestamps(slot)[1] for slot in range(generator.size)]
        self._last_update = array("q", last_updates)
        shift = keys.SLOT_BITS
        sorted_keys = [(ms << shift) | slot for slot, ms in enumerate(last_updates)]
        sorted_keys.sort()
        self._index = array("Q", sorted_keys)

    @property
    def size(self) -> int:
        return len(self._last_update)

    @property
    def generator(self) -> CustomerGenerator:
        return self._generator

    @property
    def changed(self) -> int:
        return len(self._overlay)

    def record(self, slot: int) -> Record:
        found = self._overlay.get(slot)
        return found if found is not None else self._generator.record(slot)

    def slot_of(self, party_number: str) -> int | None:
        slot = keys.slot_of_party_number(party_number)
        return slot if slot is not None and slot < self.size else None

    def last_update(self, slot: int) -> int:
        return self._last_update[slot]

    def index_key(self, slot: int) -> int:
        return keys.index_key(self._last_update[slot], slot)

    def positions(self, key_range: KeyRange) -> tuple[int, int]:
        """Index positions [start, stop) whose keys fall in the range."""
        if key_range.empty:
            return 0, 0
        return bisect_left(self._index, key_range.lo), bisect_right(self._index, key_range.hi)

    def index_run(self, start: int, stop: int, descending: bool = False) -> IndexRun:
        return IndexRun(self._index, start, stop, descending)

    def add(self, record: Record) -> int:
        """Store a new customer; its PartyId must be the next slot's."""
        slot = self.size
        if slot >= keys.MAX_SLOTS:
            raise ValueError(f"the sandbox holds at most {keys.MAX_SLOTS} customers")
        self._check(slot, record)
        last_update = _last_update_of(record)
        self._overlay[slot] = record
        self._last_update.append(last_update)
        insort(self._index, keys.index_key(last_update, slot))
        return slot

    def replace(self, changes: Mapping[int, Record]) -> None:
        """Swap in new versions of existing customers, moving their index keys when LastUpdateDate moves."""
        moved: dict[int, int] = {}
        for slot, record in changes.items():
            self._check(slot, record)
            last_update = _last_update_of(record)
            if last_update != self._last_update[slot]:
                moved[slot] = last_update
            self._overlay[slot] = record
        if len(moved) > _BULK_THRESHOLD:
            self._rebuild_index(moved)
            return
        for slot, last_update in moved.items():
            old_key = keys.index_key(self._last_update[slot], slot)
            del self._index[bisect_left(self._index, old_key)]
            insort(self._index, keys.index_key(last_update, slot))
            self._last_update[slot] = last_update

    def _rebuild_index(self, moved: dict[int, int]) -> None:
        mask = keys.SLOT_MASK
        kept = [key for key in self._index if key & mask not in moved]
        for slot, last_update in moved.items():
            self._last_update[slot] = last_update
            kept.append(keys.index_key(last_update, slot))
        kept.sort()
        self._index = array("Q", kept)

    def _check(self, slot: int, record: Record) -> None:
        if record[PARTY_ID] != keys.party_id(slot):
            raise ValueError(f"record for slot {slot} carries PartyId {record[PARTY_ID]}")


def _last_update_of(record: Record) -> int:
    value = record[LAST_UPDATE_DATE]
    if not isinstance(value, int) or not 0 <= value <= keys.MAX_TIMESTAMP_MS:
        raise ValueError(f"LastUpdateDate {value!r} is outside the sandbox's range")
    return value
