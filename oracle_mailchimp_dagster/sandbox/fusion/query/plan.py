"""Query planning: which part of the (LastUpdateDate, PartyId) index can hold the matches.

`key_range` maps a predicate onto an inclusive interval of index keys (see `keys.index_key`) and says
whether the interval is *exact* (every key inside matches, so no record needs evaluating). The keyset
window `LastUpdateDate > X or (LastUpdateDate = X and PartyId > Y)` is exact; so are plain LastUpdateDate
bounds. `point_slots` finds predicates that pin customers by PartyNumber or PartyId.
"""

from dataclasses import dataclass

from oracle_mailchimp_dagster.sandbox.fusion import keys
from oracle_mailchimp_dagster.sandbox.fusion.query.ast import (
    And,
    Between,
    Compare,
    In,
    Node,
    Or,
    Value,
)

LAST_UPDATE = "LastUpdateDate"
PARTY_ID = "PartyId"
PARTY_NUMBER = "PartyNumber"
_SHIFT = keys.SLOT_BITS


@dataclass(frozen=True)
class KeyRange:
    """Inclusive index-key interval; `exact` when membership alone decides the predicate."""

    lo: int
    hi: int
    exact: bool

    @property
    def empty(self) -> bool:
        return self.lo > self.hi

    @property
    def unbounded(self) -> bool:
        return self.lo <= 0 and self.hi >= keys.MAX_KEY

    def intersect(self, other: "KeyRange") -> "KeyRange":
        return KeyRange(max(self.lo, other.lo), min(self.hi, other.hi), self.exact and other.exact)


EVERYTHING = KeyRange(0, keys.MAX_KEY, True)
UNKNOWN = KeyRange(0, keys.MAX_KEY, False)
NOTHING = KeyRange(1, 0, True)


def _clamped(lo: int, hi: int) -> KeyRange:
    lo, hi = max(lo, 0), min(hi, keys.MAX_KEY)
    return KeyRange(lo, hi, True) if lo <= hi else NOTHING


def _timestamp_range(op: str, ms: int) -> KeyRange:
    if op == ">":
        return _clamped((ms + 1) << _SHIFT, keys.MAX_KEY)
    if op == ">=":
        return _clamped(ms << _SHIFT, keys.MAX_KEY)
    if op == "<":
        return _clamped(0, (ms << _SHIFT) - 1)
    if op == "<=":
        return _clamped(0, ((ms + 1) << _SHIFT) - 1)
    if op == "=":
        return _clamped(ms << _SHIFT, ((ms + 1) << _SHIFT) - 1)
    return UNKNOWN


def _slot_bounds(node: Node) -> tuple[int, int] | None:
    """Inclusive slot interval a PartyId condition allows, or None if it is not an interval."""
    if isinstance(node, Compare) and isinstance(node.value, int):
        value, op = node.value, node.op
        if op == ">":
            return keys.first_slot_with_party_id_above(value, False), keys.SLOT_MASK
        if op == ">=":
            return keys.first_slot_with_party_id_above(value, True), keys.SLOT_MASK
        if op == "<":
            return 0, keys.last_slot_with_party_id_below(value, False)
        if op == "<=":
            return 0, keys.last_slot_with_party_id_below(value, True)
        if op == "=":
            slot = keys.slot_of_party_id(value)
            return (slot, slot) if slot is not None else (1, 0)
    if isinstance(node, Between) and not node.negated:
        low, high = node.low, node.high
        if isinstance(low, int) and isinstance(high, int):
            return (
                keys.first_slot_with_party_id_above(low, True),
                keys.last_slot_with_party_id_below(high, True),
            )
    return None


def key_range(node: Node | None) -> KeyRange:
    """The index keys that can match `node` (None matches everything)."""
    if node is None:
        return EVERYTHING
    match node:
        case Compare(attr, op, value) if attr == LAST_UPDATE and isinstance(value, int):
            return _timestamp_range(op, value)
        case Between(attr, low, high, False) if (
            attr == LAST_UPDATE and isinstance(low, int) and isinstance(high, int)
        ):
            return _timestamp_range(">=", low).intersect(_timestamp_range("<=", high))
        case In(attr, values, False) if attr == LAST_UPDATE:
            return _union([_timestamp_range("=", v) for v in values if isinstance(v, int)])
        case And(parts):
            return _conjunction(parts)
        case Or(parts):
            return _union([key_range(p) for p in parts])
    return UNKNOWN


def _conjunction(parts: tuple[Node, ...]) -> KeyRange:
    party_id_parts = [p for p in parts if getattr(p, "attr", None) == PARTY_ID]
    result = EVERYTHING
    for part in parts:
        if getattr(part, "attr", None) != PARTY_ID:
            result = result.intersect(key_range(part))
    if result.empty:
        return NOTHING
    single_timestamp = result.lo >> _SHIFT == result.hi >> _SHIFT
    for part in party_id_parts:
        bounds = _slot_bounds(part) if single_timestamp else None
        if bounds is None:
            result = KeyRange(result.lo, result.hi, False)
            continue
        base = (result.lo >> _SHIFT) << _SHIFT
        first, last = max(bounds[0], 0), min(bounds[1], keys.SLOT_MASK)
        if first > last:
            return NOTHING
        result = result.intersect(KeyRange(base | first, base | last, True))
        if result.empty:
            return NOTHING
    return result


def _union(ranges: list[KeyRange]) -> KeyRange:
    present = sorted((r for r in ranges if not r.empty), key=lambda r: r.lo)
    if not present:
        return NOTHING
    exact = all(r.exact for r in present)
    reach = present[0].hi
    for r in present[1:]:
        if r.lo > reach + 1:
            exact = False
        reach = max(reach, r.hi)
    return KeyRange(present[0].lo, reach, exact)


def point_slots(node: Node | None) -> frozenset[int] | None:
    """The slots a predicate pins by PartyNumber/PartyId equality (or IN), or None if it pins none."""
    if node is None:
        return None
    match node:
        case Compare(attr, "=", value) if attr in (PARTY_NUMBER, PARTY_ID):
            return _slots_of(attr, (value,))
        case In(attr, values, False) if attr in (PARTY_NUMBER, PARTY_ID):
            return _slots_of(attr, values)
        case And(parts):
            found = [s for s in (point_slots(p) for p in parts) if s is not None]
            return frozenset.intersection(*found) if found else None
        case Or(parts):
            found_all = [point_slots(p) for p in parts]
            if any(s is None for s in found_all):
                return None
            return frozenset().union(*(s for s in found_all if s is not None))
    return None


def _slots_of(attr: str, values: tuple[Value, ...]) -> frozenset[int]:
    slots = set()
    for value in values:
        if attr == PARTY_NUMBER:
            slot = keys.slot_of_party_number(value) if isinstance(value, str) else None
        else:
            slot = keys.slot_of_party_id(int(value)) if isinstance(value, int) else None
        if slot is not None:
            slots.add(slot)
    return frozenset(slots)
