"""Generated customers, the store's index and the query engine against a brute-force reference (no HTTP)."""

import random
import re
from array import array
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracle_mailchimp_dagster.sandbox.fusion import keys
from oracle_mailchimp_dagster.sandbox.fusion.engine import Window, select
from oracle_mailchimp_dagster.sandbox.fusion.generator import CustomerGenerator
from oracle_mailchimp_dagster.sandbox.fusion.mutations import TouchCustomers, UpdateCustomer, apply_mutations
from oracle_mailchimp_dagster.sandbox.fusion.query.ast import Between, Compare, IsNull, Node, Not, Or, conjoin
from oracle_mailchimp_dagster.sandbox.fusion.query.evaluate import compile_predicate
from oracle_mailchimp_dagster.sandbox.fusion.schema import ATTRIBUTE_INDEX, ATTRIBUTES, NAMES, Record
from oracle_mailchimp_dagster.sandbox.fusion.store import CustomerStore, IndexRun
from oracle_mailchimp_dagster.sandbox.fusion.timestamps import to_millis

START = to_millis(datetime(2015, 1, 1, tzinfo=UTC))
END = to_millis(datetime(2026, 6, 30, tzinfo=UTC))
EMAIL_SHAPE = re.compile(r"[^@\s;]+@[^@\s;]+\.[^@\s;.]+")


def generator(size: int = 2000, seed: int = 42) -> CustomerGenerator:
    return CustomerGenerator(seed, size, START, END)


def field(record: Record, name: str) -> object:
    return record[ATTRIBUTE_INDEX[name]]


@pytest.fixture(scope="module")
def population() -> list[dict[str, Any]]:
    gen = generator()
    return [dict(zip(NAMES, gen.record(slot), strict=True)) for slot in range(gen.size)]


def test_generation_is_deterministic_per_seed() -> None:
    assert [generator().record(s) for s in range(50)] == [generator().record(s) for s in range(50)]
    assert generator(seed=7).record(3) != generator().record(3)


def test_every_record_has_the_accounts_shape(population: list[dict[str, Any]]) -> None:
    for slot, customer in enumerate(population):
        assert len(customer) == len(ATTRIBUTES)
        assert customer["PartyId"] == keys.party_id(slot)
        assert customer["PartyNumber"] == keys.party_number(slot)
        assert customer["Type"] in ("ZCA_CUSTOMER", "ZCA_PROSPECT")
        assert customer["PartyStatus"] in ("A", "I")
        assert START <= customer["CreationDate"] <= customer["LastUpdateDate"] <= END
        assert customer["OrganizationName"]


def test_data_carries_the_mess_of_a_real_customer_master(population: list[dict[str, Any]]) -> None:
    emails = [c["EmailAddress"] for c in population]
    present = [e for e in emails if isinstance(e, str)]
    assert emails.count(None) > 40, "missing emails"
    assert sum(1 for e in present if not EMAIL_SHAPE.fullmatch(e.strip())) > 15, "invalid emails"
    assert sum(1 for e in present if e != e.lower() and EMAIL_SHAPE.fullmatch(e)) > 30, "mixed-case emails"
    assert sum(1 for e in present if e != e.strip()) > 3, "padded emails"
    assert any(n > 1 for n in Counter(present).values()), "shared emails"
    assert any(not (c["City"] or "").isascii() or not (c["AddressLine1"] or "").isascii() for c in population)
    assert any(not str(c["OrganizationName"]).isascii() for c in population)
    assert any(c["Country"] and (c["City"] is None or c["PostalCode"] is None) for c in population), (
        "incomplete"
    )
    assert any(c["Country"] is None for c in population), "no address at all"
    assert any(len(str(c["OrganizationName"])) > 100 for c in population), "long names"
    assert max(Counter(c["LastUpdateDate"] for c in population).values()) >= 20, "mass-update ties"
    assert {c["Country"] for c in population} >= {"US", "GB", "DE", "FR", "JP"}
    assert any(c["PartyStatus"] == "I" for c in population)
    assert any(c["PrimaryContactName"] is None for c in population)


def _index_is_consistent(store: CustomerStore) -> None:
    run = list(store.index_run(0, store.size))
    expected = sorted(range(store.size), key=lambda s: (field(store.record(s), "LastUpdateDate"), s))
    assert run == expected


def test_index_follows_single_and_bulk_changes() -> None:
    store = CustomerStore(generator(500))
    _index_is_consistent(store)
    apply_mutations(
        store, [UpdateCustomer(party_number=keys.party_number(3), changes={"City": "Oslo"})], END + 5, True
    )
    _index_is_consistent(store)
    touch_all = TouchCustomers(party_numbers=[keys.party_number(s) for s in range(0, 500, 3)])
    apply_mutations(store, [touch_all], END + 9, True)
    _index_is_consistent(store)
    assert field(store.record(3), "LastUpdateDate") == END + 9
    assert field(store.record(3), "City") == "Oslo"


# The engine against a brute-force reference ----------------------------------------------------------

ENGINE_SIZE = 300
ORDERS = [
    (),
    (("LastUpdateDate", False), ("PartyId", False)),
    (("LastUpdateDate", True), ("PartyId", True)),
    (("LastUpdateDate", False),),
    (("PartyId", True),),
    (("PartyId", False),),
    (("Country", False), ("PartyId", True)),
    (("EmailAddress", True), ("PartyId", False)),
    (("LastUpdateDate", False), ("PartyId", True)),
]


@pytest.fixture(scope="module")
def engine_store() -> CustomerStore:
    store = CustomerStore(generator(ENGINE_SIZE, seed=5))
    # One instant shared by many customers, so ties cross every page boundary.
    tied = TouchCustomers(party_numbers=[keys.party_number(s) for s in range(0, ENGINE_SIZE, 2)])
    apply_mutations(store, [tied], END + 1000, True)
    return store


def _reference(store: CustomerStore, node: Node | None, order: tuple[tuple[str, bool], ...]) -> list[Record]:
    records = [store.record(s) for s in range(store.size)]
    if node is not None:
        predicate = compile_predicate(node, ATTRIBUTE_INDEX)
        records = [r for r in records if predicate(r) is True]
    for name, descending in reversed(order):
        i = ATTRIBUTE_INDEX[name]
        records.sort(key=lambda r, i=i: (r[i] is None, r[i]), reverse=descending)  # type: ignore[misc]
    return records


def _conditions(store: CustomerStore) -> st.SearchStrategy[Node]:
    stamps = sorted({store.last_update(s) for s in range(store.size)})
    stamp = st.sampled_from(stamps)
    pid = st.integers(min_value=0, max_value=store.size).map(keys.party_id)
    return st.one_of(
        st.builds(Compare, st.just("LastUpdateDate"), st.sampled_from([">", ">=", "<", "<=", "="]), stamp),
        st.builds(Compare, st.just("PartyId"), st.sampled_from([">", "<=", "="]), pid),
        st.builds(Between, st.just("LastUpdateDate"), stamp, stamp),
        st.builds(Compare, st.just("PartyStatus"), st.just("="), st.sampled_from(["A", "I"])),
        st.builds(IsNull, st.just("EmailAddress"), st.booleans()),
        st.builds(
            Compare,
            st.just("PartyNumber"),
            st.just("="),
            pid.map(lambda p: keys.party_number((p - keys.PARTY_ID_BASE) // 20)),
        ),
    )


@given(data=st.data())
@settings(max_examples=250, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_engine_pages_match_a_brute_force_reference(engine_store: CustomerStore, data: st.DataObject) -> None:
    condition = _conditions(engine_store)
    node = data.draw(
        st.one_of(
            st.none(),
            condition,
            st.lists(condition, min_size=2, max_size=3).map(lambda parts: conjoin(*parts)),
            st.lists(condition, min_size=2, max_size=2).map(lambda parts: Or(tuple(parts))),
            condition.map(Not),
        )
    )
    order = data.draw(st.sampled_from(ORDERS))
    window = Window(data.draw(st.integers(0, 320)), data.draw(st.integers(1, 120)), data.draw(st.booleans()))
    expected = _reference(engine_store, node, order)
    with engine_store.lock:
        page = select(engine_store, node, order, window, ATTRIBUTE_INDEX)
    end = window.offset + window.limit
    assert page.has_more == (end < len(expected))
    if page.total is not None:
        assert page.total == len(expected)
    if window.want_total:
        assert page.total == len(expected)
    if order:
        got = [r[0] for r in page.records]
        assert got == [r[0] for r in expected[window.offset : end]]
    else:
        assert len(page.records) == len(expected[window.offset : end])
        assert {r[0] for r in page.records} <= {r[0] for r in expected}


def test_unordered_paging_is_stable_complete_and_not_party_id_order(engine_store: CustomerStore) -> None:
    def page(offset: int) -> list[int]:
        with engine_store.lock:
            return [r[0] for r in select(engine_store, None, (), Window(offset, 50), ATTRIBUTE_INDEX).records]

    seen = [pid for offset in range(0, ENGINE_SIZE, 50) for pid in page(offset)]
    assert sorted(seen) == [keys.party_id(s) for s in range(ENGINE_SIZE)]
    assert seen != sorted(seen)
    assert page(100) == page(100)


def test_shuffled_unordered_paging_varies_between_requests(engine_store: CustomerStore) -> None:
    def page() -> list[int]:
        shuffle = random.Random()
        with engine_store.lock:
            return [
                r[0] for r in select(engine_store, None, (), Window(0, 50), ATTRIBUTE_INDEX, shuffle).records
            ]

    assert len({tuple(page()) for _ in range(5)}) > 1


@pytest.mark.parametrize(("start", "stop"), [(0, 10_000), (5, 9_999), (3, 3), (100, 4_200)])
@pytest.mark.parametrize("descending", [False, True])
def test_index_runs_iterate_and_index_alike(start: int, stop: int, descending: bool) -> None:
    index = array("Q", range(10_000))
    run = IndexRun(index, start, stop, descending)
    expected = list(range(start, stop))[:: -1 if descending else 1]
    assert list(run) == expected
    assert [run[i] for i in range(len(run))] == expected
