"""Malformed values: raw JSON the pod sends in place of a customer's stored attribute (a wire fault).

A value of the wrong JSON type (a PostalCode as a number, an email as a list, a null LastUpdateDate)
is what the connector must survive without stopping the tenant. The stored record is untouched: `q`,
`orderBy` and the control API's own views still see the stored value; only rendered rows (collection
and item) carry the raw one. A value lasts until a mutation next writes the customer (Oracle changing
the row) or until cleared.

Readers take `current()` once per request without a lock: writers publish a new mapping, never change
a published one.
"""

import threading
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

_NOTHING: Mapping[int, Mapping[str, Any]] = MappingProxyType({})


class MalformedValues:
    """Raw values by PartyId, then attribute name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_party: Mapping[int, Mapping[str, Any]] = _NOTHING

    def current(self) -> Mapping[int, Mapping[str, Any]]:
        return self._by_party

    def set(self, party_ids: Iterable[int], attribute: str, value: Any) -> None:
        with self._lock:
            changed = dict(self._by_party)
            for party_id in party_ids:
                changed[party_id] = MappingProxyType({**changed.get(party_id, {}), attribute: value})
            self._by_party = MappingProxyType(changed)

    def clear(self, party_ids: Iterable[int] | None = None) -> int:
        """Forget the values of these customers (of all when None); returns how many had any."""
        with self._lock:
            if party_ids is None:
                cleared, self._by_party = len(self._by_party), _NOTHING
                return cleared
            gone = {party_id for party_id in party_ids if party_id in self._by_party}
            if gone:
                kept = {k: v for k, v in self._by_party.items() if k not in gone}
                self._by_party = MappingProxyType(kept)
            return len(gone)
