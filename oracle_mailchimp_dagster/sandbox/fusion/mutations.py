"""Changes to the customer master, as Fusion users and jobs make them: create, update, inactivate,
reactivate, merge and mass "touch", plus back-dated ("late commit") writes.

A list of mutations is one transaction: validated and staged as a whole, then committed at one instant of
the sandbox clock, so a batch gives all its customers the same LastUpdateDate.
"""

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from oracle_mailchimp_dagster.sandbox.fusion import keys
from oracle_mailchimp_dagster.sandbox.fusion.formatting import format_address, format_phone
from oracle_mailchimp_dagster.sandbox.fusion.schema import (
    ADDRESS_PARTS,
    ATTRIBUTE_INDEX,
    BY_NAME,
    CHILD_ATTRIBUTES,
    CREATION_DATE,
    LAST_UPDATE_DATE,
    PHONE_PARTS,
    Record,
)
from oracle_mailchimp_dagster.sandbox.fusion.store import CustomerStore
from oracle_mailchimp_dagster.sandbox.fusion.timestamps import to_millis

ACTOR = "SANDBOX.ADMIN"
PARTY_STATUSES = frozenset({"A", "I", "M", "D"})
_NAME_PARTS = frozenset({"OrganizationName", "UniqueNameSuffix"})


class MutationError(Exception):
    """A mutation that cannot apply: 404 for an unknown customer, 400 for anything else."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")
    last_update_date: datetime | None = Field(
        default=None, description="Write this LastUpdateDate instead of the clock's now (a late commit)."
    )


class CreateCustomer(_Op):
    op: Literal["create"] = "create"
    values: dict[str, Any] = Field(default_factory=dict)


class UpdateCustomer(_Op):
    op: Literal["update"] = "update"
    party_number: str
    changes: dict[str, Any] = Field(default_factory=dict)


class InactivateCustomer(_Op):
    op: Literal["inactivate"] = "inactivate"
    party_number: str


class ReactivateCustomer(_Op):
    op: Literal["reactivate"] = "reactivate"
    party_number: str


class MergeCustomer(_Op):
    """The duplicate `party_number` is merged into `into`: it becomes status M, both are updated."""

    op: Literal["merge"] = "merge"
    party_number: str
    into: str


class TouchCustomers(_Op):
    """A mass update: the listed customers, plus the `oldest` N by LastUpdateDate, get one new timestamp."""

    op: Literal["touch"] = "touch"
    party_numbers: list[str] = Field(default_factory=list)
    oldest: int = Field(default=0, ge=0)


Mutation = Annotated[
    CreateCustomer
    | UpdateCustomer
    | InactivateCustomer
    | ReactivateCustomer
    | MergeCustomer
    | TouchCustomers,
    Field(discriminator="op"),
]


def apply_mutations(
    store: CustomerStore, mutations: list[Mutation], now_ms: int, child_changes_bump_parent: bool
) -> list[Record]:
    """Apply the mutations as one transaction; returns the affected customers' new records."""
    with store.lock:
        transaction = _Transaction(store, now_ms, child_changes_bump_parent)
        for mutation in mutations:
            transaction.apply(mutation)
        return transaction.commit()


class _Transaction:
    def __init__(self, store: CustomerStore, now_ms: int, bump_children: bool) -> None:
        self._store = store
        self._now = now_ms
        self._bump_children = bump_children
        self._changed: dict[int, Record] = {}
        self._created: list[Record] = []
        self._touched: list[int] = []

    def apply(self, mutation: Mutation) -> None:
        when = to_millis(mutation.last_update_date) if mutation.last_update_date else None
        if isinstance(mutation, CreateCustomer):
            self._create(mutation.values, when)
        elif isinstance(mutation, UpdateCustomer):
            slot = self._slot(mutation.party_number)
            bump = when is not None or self._bump_children or not set(mutation.changes) <= CHILD_ATTRIBUTES
            self._put(slot, _changed(self._get(slot), mutation.changes), when, bump)
        elif isinstance(mutation, InactivateCustomer | ReactivateCustomer):
            slot = self._slot(mutation.party_number)
            status = "I" if isinstance(mutation, InactivateCustomer) else "A"
            self._put(slot, _changed(self._get(slot), {"PartyStatus": status}), when, True)
        elif isinstance(mutation, MergeCustomer):
            duplicate, survivor = self._slot(mutation.party_number), self._slot(mutation.into)
            if duplicate == survivor:
                raise MutationError("a customer cannot be merged into itself")
            self._put(duplicate, _changed(self._get(duplicate), {"PartyStatus": "M"}), when, True)
            self._put(survivor, self._get(survivor), when, True)
        else:
            slots = [self._slot(number) for number in mutation.party_numbers]
            slots.extend(self._store.index_run(0, min(mutation.oldest, self._store.size)))
            for slot in dict.fromkeys(slots):
                self._put(slot, self._get(slot), when, True, updated_by="MASS.UPDATE")

    def commit(self) -> list[Record]:
        store = self._store
        for record in self._created:
            store.add(record)
        store.replace(self._changed)
        return [*(self._changed[slot] for slot in dict.fromkeys(self._touched)), *self._created]

    def _slot(self, party_number: str) -> int:
        slot = keys.slot_of_party_number(party_number)
        if slot is None or slot >= self._store.size + len(self._created):
            raise MutationError(f"no customer has PartyNumber {party_number}", status=404)
        return slot

    def _get(self, slot: int) -> Record:
        if slot >= self._store.size:
            return self._created[slot - self._store.size]
        return self._changed.get(slot) or self._store.record(slot)

    def _put(self, slot: int, record: Record, when: int | None, bump: bool, updated_by: str = ACTOR) -> None:
        if bump:
            record = _stamped(record, self._now if when is None else when, updated_by)
        if slot >= self._store.size:
            self._created[slot - self._store.size] = record
        else:
            self._changed[slot] = record
            self._touched.append(slot)

    def _create(self, values: dict[str, Any], when: int | None) -> None:
        slot = self._store.size + len(self._created)
        if slot >= keys.MAX_SLOTS:
            raise MutationError(f"the sandbox holds at most {keys.MAX_SLOTS} customers")
        moment = self._now if when is None else when
        base = list(self._store.generator.record(slot))
        base[ATTRIBUTE_INDEX["PartyStatus"]] = "A"
        base[ATTRIBUTE_INDEX["CreatedBy"]] = ACTOR
        base[ATTRIBUTE_INDEX["CreatedByModule"]] = "HZ_WS"
        base[CREATION_DATE] = moment
        base[LAST_UPDATE_DATE] = moment
        self._created.append(_stamped(_changed(tuple(base), values), moment, ACTOR))


def _stamped(record: Record, when: int, updated_by: str) -> Record:
    if not 0 <= when <= keys.MAX_TIMESTAMP_MS:
        raise MutationError("LastUpdateDate is outside the sandbox's range (1970 to 2109)")
    creation = record[CREATION_DATE]
    if isinstance(creation, int) and when < creation:
        raise MutationError("LastUpdateDate cannot be earlier than the customer's CreationDate")
    values = list(record)
    values[LAST_UPDATE_DATE] = when
    values[ATTRIBUTE_INDEX["LastUpdatedBy"]] = updated_by
    login = hashlib.md5(f"{values[0]}:{when}".encode(), usedforsecurity=False).hexdigest().upper()
    values[ATTRIBUTE_INDEX["LastUpdateLogin"]] = login
    return tuple(values)


def _changed(record: Record, changes: dict[str, Any]) -> Record:
    """The record with `changes` applied and the display fields derived from them recomputed."""
    values = list(record)
    for name, value in changes.items():
        values[ATTRIBUTE_INDEX[_check_change(name, value)]] = value
    get = lambda name: values[ATTRIBUTE_INDEX[name]]  # noqa: E731
    changed = set(changes)
    if changed & _NAME_PARTS:
        suffix = get("UniqueNameSuffix")
        name = get("OrganizationName")
        values[ATTRIBUTE_INDEX["PartyUniqueName"]] = f"{name} ({suffix})" if suffix else name
    if changed & ADDRESS_PARTS:
        values[ATTRIBUTE_INDEX["FormattedAddress"]] = format_address(
            get("Country"),
            get("AddressLine1"),
            get("AddressLine2"),
            get("City"),
            get("State") or get("Province"),
            get("PostalCode"),
        )
        if get("AddressNumber") is None:
            values[ATTRIBUTE_INDEX["AddressNumber"]] = f"{get('PartyNumber')}-1"
    if changed & PHONE_PARTS:
        values[ATTRIBUTE_INDEX["FormattedPhoneNumber"]] = format_phone(
            get("PhoneCountryCode"), get("PhoneAreaCode"), get("PhoneNumber")
        )
    return tuple(values)


def _check_change(name: str, value: Any) -> str:
    attribute = BY_NAME.get(name)
    if attribute is None:
        raise MutationError(f"unknown attribute {name!r}")
    if not attribute.updatable:
        raise MutationError(f"attribute {name} is not updatable")
    if value is None:
        if name in ("OrganizationName", "PartyStatus"):
            raise MutationError(f"attribute {name} cannot be null")
        return name
    if attribute.kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise MutationError(f"attribute {name} takes an integer")
        return name
    if not isinstance(value, str):
        raise MutationError(f"attribute {name} takes a string")
    if attribute.max_length is not None and len(value) > attribute.max_length:
        raise MutationError(f"attribute {name} is longer than {attribute.max_length} characters")
    if name == "PartyStatus" and value not in PARTY_STATUSES:
        raise MutationError("PartyStatus must be one of A, I, M, D")
    return name
