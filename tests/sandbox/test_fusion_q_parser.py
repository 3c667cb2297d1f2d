"""The `q` parsers (query-by-example v1, rowmatch v2+), evaluation and index planning (pure)."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle_mailchimp_dagster.sandbox.fusion import keys
from oracle_mailchimp_dagster.sandbox.fusion.params import QUERY_SCHEMA
from oracle_mailchimp_dagster.sandbox.fusion.query import QueryError, parse_q
from oracle_mailchimp_dagster.sandbox.fusion.query.ast import (
    And,
    Between,
    Compare,
    In,
    IsNull,
    Like,
    Node,
    Not,
    Or,
)
from oracle_mailchimp_dagster.sandbox.fusion.query.evaluate import compile_predicate
from oracle_mailchimp_dagster.sandbox.fusion.query.plan import key_range, point_slots
from oracle_mailchimp_dagster.sandbox.fusion.timestamps import parse_timestamp

JAN1 = parse_timestamp("2024-01-01T00:00Z")
JAN2 = parse_timestamp("2024-01-02T00:00Z")


def v1(text: str) -> Node | None:
    return parse_q(text, 1, QUERY_SCHEMA)


def v2(text: str) -> Node | None:
    return parse_q(text, 2, QUERY_SCHEMA)


# Query-by-example (v1) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "LastUpdateDate>2024-01-01T00:00Z and <=2024-01-02T00:00Z",
            And((Compare("LastUpdateDate", ">", JAN1), Compare("LastUpdateDate", "<=", JAN2))),
        ),
        ("PartyStatus=A", Compare("PartyStatus", "=", "A")),
        ("PartyNumber='CDRM_1'", Compare("PartyNumber", "=", "CDRM_1")),
        ("OrganizationName='O''Brien & Co'", Compare("OrganizationName", "=", "O'Brien & Co")),
        ("OrganizationName=Acme Industrial Inc.", Compare("OrganizationName", "=", "Acme Industrial Inc.")),
        (
            "PartyStatus=A;Type!=ZCA_PROSPECT",
            And((Compare("PartyStatus", "=", "A"), Compare("Type", "!=", "ZCA_PROSPECT"))),
        ),
        ("Country<>US", Compare("Country", "!=", "US")),
        ("OrganizationName=Acme%", Like("OrganizationName", "Acme%")),
        ("EmailAddress!=%@example.com", Like("EmailAddress", "%@example.com", negated=True)),
        (
            "PartyId>=10 and <= 30 or =50",
            Or(
                (
                    And((Compare("PartyId", ">=", 10), Compare("PartyId", "<=", 30))),
                    Compare("PartyId", "=", 50),
                )
            ),
        ),
        ("LastUpdateDate >= '2024-01-01T00:00:00.000+00:00'", Compare("LastUpdateDate", ">=", JAN1)),
    ],
)
def test_query_by_example_parses(text: str, expected: Node) -> None:
    assert v1(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PartyStatus = 'A' and Type = 'ZCA_CUSTOMER'", "join conditions on different attributes"),
        ("PartyStatus=A and Type=ZCA_CUSTOMER", "join conditions on different attributes"),
        ("(PartyStatus=A)", "does not start with an attribute"),
        ("OrganizationName LIKE 'A%'", "Expected a comparison operator"),
        ("EmailAddress IS NULL", "Expected a comparison operator"),
        ("PartyId IN (1,2)", "Expected a comparison operator"),
        ('CreationDate > "2024-01-01T00:00:00Z"', "not a valid timestamp"),
        ("NOT PartyStatus=A", "Attribute NOT is not found"),
        ("PartyStatus=A;", "empty"),
        ("PartyStatus='A", "not closed"),
        ("Foo=1", "Attribute Foo is not found"),
        ("partystatus=A", "Attribute partystatus is not found"),
        ("FormattedAddress=x", "not queryable"),
        ("PartyId=abc", "not a number"),
        ("LastUpdateDate>yesterday", "not a valid timestamp"),
        ("PartyStatus=", "no value"),
    ],
)
def test_query_by_example_rejects(text: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        v1(text)


# Rowmatch (v2+) -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "OrganizationName = 'Acme' and PartyStatus = 'A'",
            And((Compare("OrganizationName", "=", "Acme"), Compare("PartyStatus", "=", "A"))),
        ),
        ("LastUpdateDate > '2024-01-01T00:00:00.000+00:00'", Compare("LastUpdateDate", ">", JAN1)),
        ("LastUpdateDate > '2024-01-01T02:00:00.000+02:00'", Compare("LastUpdateDate", ">", JAN1)),
        ('LastUpdateDate >= "2024-01-01"', Compare("LastUpdateDate", ">=", JAN1)),
        ("OrganizationName LIKE 'Ac%'", Like("OrganizationName", "Ac%")),
        ("OrganizationName not like 'Ac_'", Like("OrganizationName", "Ac_", negated=True)),
        ("PartyId BETWEEN 10 AND 20", Between("PartyId", 10, 20)),
        ("PartyId NOT BETWEEN 10 AND 20", Between("PartyId", 10, 20, negated=True)),
        ("PartyId IN (10, 20,30)", In("PartyId", (10, 20, 30))),
        ("Country not in ('US','CA')", In("Country", ("US", "CA"), negated=True)),
        ("EmailAddress IS NULL", IsNull("EmailAddress")),
        ("EmailAddress is not null", IsNull("EmailAddress", negated=True)),
        ("Country <> 'US'", Compare("Country", "!=", "US")),
        ("PostalCode = 94065", Compare("PostalCode", "=", "94065")),
        ("PartyId > -5", Compare("PartyId", ">", -5)),
        ("OrganizationName = 'it''s'", Compare("OrganizationName", "=", "it's")),
        (
            "PartyStatus = 'A' or PartyStatus = 'I' and Type = 'ZCA_CUSTOMER'",
            Or(
                (
                    Compare("PartyStatus", "=", "A"),
                    And((Compare("PartyStatus", "=", "I"), Compare("Type", "=", "ZCA_CUSTOMER"))),
                )
            ),
        ),
        (
            "(PartyStatus = 'A' or PartyStatus = 'I') and not Type = 'ZCA_CUSTOMER'",
            And(
                (
                    Or((Compare("PartyStatus", "=", "A"), Compare("PartyStatus", "=", "I"))),
                    Not(Compare("Type", "=", "ZCA_CUSTOMER")),
                )
            ),
        ),
        (
            "LastUpdateDate > '2024-01-01T00:00Z' or (LastUpdateDate = '2024-01-01T00:00Z' and PartyId > 7)",
            Or(
                (
                    Compare("LastUpdateDate", ">", JAN1),
                    And((Compare("LastUpdateDate", "=", JAN1), Compare("PartyId", ">", 7))),
                )
            ),
        ),
    ],
)
def test_rowmatch_parses(text: str, expected: Node) -> None:
    assert v2(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("LastUpdateDate>2024-01-01T00:00Z and <=2024-01-02T00:00Z", "Unexpected text"),
        ("PartyStatus=A", "not a literal"),
        ("PartyStatus='A';Type='ZCA_CUSTOMER'", "Unexpected text .;Type"),
        ("LastUpdateDate > 2024", "must be quoted"),
        ("PartyStatus = 'A' )", "Unexpected"),
        ("(PartyStatus = 'A'", "Expected '\\)'"),
        ("PartyStatus = 'A", "not closed"),
        ("PartyStatus 'A'", "Expected an operator"),
        ("PartyId BETWEEN 1 OR 2", "Expected AND"),
        ("PartyId IN 1,2", "Expected '\\('"),
        ("PartyId IS 'x'", "Expected NULL"),
        ("LastUpdateDate LIKE '2024%'", "LIKE needs a text attribute"),
        ("Foo = 'x'", "Attribute Foo is not found"),
        ("and = 'x'", "Expected an attribute name"),
        ("PartyStatus = ", "Expected a value"),
        ("LastUpdateDate > 'soon'", "not a valid timestamp"),
    ],
)
def test_rowmatch_rejects(text: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        v2(text)


def test_blank_q_means_no_filter() -> None:
    assert v1("  ") is None and v2("") is None


# Evaluation -----------------------------------------------------------------------------------------

INDEX = {"EmailAddress": 0, "PartyId": 1, "OrganizationName": 2}


def matches(text: str, record: tuple[Any, ...]) -> bool | None:
    node = v2(text)
    assert node is not None
    return compile_predicate(node, INDEX)(record)


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        ("EmailAddress = 'a@x'", ("a@x", 1, "Acme"), True),
        ("EmailAddress = 'a@x'", (None, 1, "Acme"), None),
        ("not (EmailAddress = 'a@x')", (None, 1, "Acme"), None),
        ("EmailAddress = 'a@x' or PartyId = 1", (None, 1, "Acme"), True),
        ("EmailAddress = 'a@x' and PartyId = 2", (None, 1, "Acme"), False),
        ("EmailAddress IS NULL", (None, 1, "Acme"), True),
        ("OrganizationName LIKE 'A_m%'", ("a", 1, "Acme Corp"), True),
        ("OrganizationName LIKE 'acme%'", ("a", 1, "Acme Corp"), False),
        ("OrganizationName LIKE '100.%'", ("a", 1, "100x"), False),
        ("PartyId NOT IN (1, 2)", ("a", 1, "x"), False),
        ("PartyId BETWEEN 1 AND 1", ("a", 1, "x"), True),
    ],
)
def test_evaluation_follows_sql_three_valued_logic(
    text: str, record: tuple[Any, ...], expected: bool | None
) -> None:
    assert matches(text, record) is expected


# Property tests -------------------------------------------------------------------------------------

STRING_ATTRS = ("PartyStatus", "Country", "EmailAddress")


def _literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def render_rowmatch(node: Node) -> str:
    """Test-side printer: the rowmatch text for a tree (parenthesizing every compound)."""
    match node:
        case Compare(attr, op, value):
            return f"{attr} {op} {_literal(value)}"
        case Like(attr, pattern, negated):
            return f"{attr} {'NOT ' if negated else ''}LIKE {_literal(pattern)}"
        case Between(attr, low, high, negated):
            return f"{attr} {'NOT ' if negated else ''}BETWEEN {_literal(low)} AND {_literal(high)}"
        case In(attr, values, negated):
            return f"{attr} {'NOT ' if negated else ''}IN ({', '.join(_literal(v) for v in values)})"
        case IsNull(attr, negated):
            return f"{attr} IS {'NOT ' if negated else ''}NULL"
        case Not(part):
            return f"NOT ({render_rowmatch(part)})"
        case And(parts):
            return " and ".join(f"({render_rowmatch(p)})" for p in parts)
        case Or(parts):
            return " OR ".join(f"({render_rowmatch(p)})" for p in parts)
    raise AssertionError(node)


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
ints = st.integers(min_value=-(10**15), max_value=10**15)
leaves = st.one_of(
    st.builds(
        Compare, st.sampled_from(STRING_ATTRS), st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), texts
    ),
    st.builds(Compare, st.just("PartyId"), st.sampled_from(["=", "<", ">="]), ints),
    st.builds(Like, st.sampled_from(STRING_ATTRS), texts, st.booleans()),
    st.builds(Between, st.just("PartyId"), ints, ints, st.booleans()),
    st.builds(
        In, st.sampled_from(STRING_ATTRS), st.lists(texts, min_size=1, max_size=3).map(tuple), st.booleans()
    ),
    st.builds(IsNull, st.sampled_from(STRING_ATTRS), st.booleans()),
)
trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(Not, children),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: And(tuple(parts))),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: Or(tuple(parts))),
    ),
    max_leaves=8,
)


def _flatten(node: Node) -> Node:
    """Printing parenthesizes every compound, so nested ANDs/ORs come back nested: normalize both sides."""
    match node:
        case Not(part):
            return Not(_flatten(part))
        case And(parts):
            return And(tuple(_flatten(p) for p in parts))
        case Or(parts):
            return Or(tuple(_flatten(p) for p in parts))
    return node


@given(trees)
@settings(max_examples=300)
def test_rowmatch_round_trips_any_tree(node: Node) -> None:
    assert v2(render_rowmatch(node)) == _flatten(node)


by_example_conditions = st.lists(
    st.tuples(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), st.integers(min_value=0, max_value=10**15)),
    min_size=1,
    max_size=4,
)


@given(by_example_conditions, st.lists(st.sampled_from(["and", "or", "AND"]), min_size=3, max_size=3))
def test_query_by_example_chains_comparisons_with_and_binding_tighter(
    conditions: list[tuple[str, int]], connectors: list[str]
) -> None:
    text = "PartyId" + " ".join(
        f"{connectors[i - 1] + ' ' if i else ''}{op}{value}" for i, (op, value) in enumerate(conditions)
    )
    groups: list[list[Node]] = [[]]
    for i, (op, value) in enumerate(conditions):
        if i and connectors[i - 1].lower() == "or":
            groups.append([])
        groups[-1].append(Compare("PartyId", "!=" if op == "!=" else op, value))  # type: ignore[arg-type]
    ors = [g[0] if len(g) == 1 else And(tuple(g)) for g in groups]
    assert v1(text) == (ors[0] if len(ors) == 1 else Or(tuple(ors)))


# Planner soundness: the key range holds every match, and exactly the matches when it says so ----------

PLAN_INDEX = {"LastUpdateDate": 0, "PartyId": 1, "PartyNumber": 2, "PartyStatus": 3}
timestamps = st.integers(min_value=996, max_value=1014)
slots = st.integers(min_value=0, max_value=40)
party_ids = st.integers(min_value=keys.party_id(0) - 30, max_value=keys.party_id(41) + 30)
plan_leaves = st.one_of(
    st.builds(
        Compare, st.just("LastUpdateDate"), st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), timestamps
    ),
    st.builds(Compare, st.just("PartyId"), st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), party_ids),
    st.builds(Between, st.just("LastUpdateDate"), timestamps, timestamps, st.booleans()),
    st.builds(Between, st.just("PartyId"), party_ids, party_ids, st.booleans()),
    st.builds(In, st.just("LastUpdateDate"), st.lists(timestamps, min_size=1, max_size=3).map(tuple)),
    st.builds(Compare, st.just("PartyNumber"), st.just("="), slots.map(keys.party_number)),
    st.builds(Compare, st.just("PartyStatus"), st.just("="), st.sampled_from(["A", "I"])),
)
plan_trees = st.recursive(
    plan_leaves,
    lambda children: st.one_of(
        st.builds(Not, children),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: And(tuple(parts))),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: Or(tuple(parts))),
    ),
    max_leaves=6,
)
populations = st.lists(st.tuples(slots, timestamps, st.sampled_from(["A", "I"])), min_size=1, max_size=60)


@given(plan_trees, populations)
@settings(max_examples=400)
def test_planned_range_is_sound_and_exact_when_claimed(
    node: Node, population: list[tuple[int, int, str]]
) -> None:
    predicate = compile_predicate(node, PLAN_INDEX)
    planned = key_range(node)
    pinned = point_slots(node)
    for slot, last_update, status in {p[0]: p for p in population}.values():
        record = (last_update, keys.party_id(slot), keys.party_number(slot), status)
        key = keys.index_key(last_update, slot)
        inside = planned.lo <= key <= planned.hi
        matched = predicate(record) is True
        if matched:
            assert inside, f"match outside the planned range: {record}"
            assert pinned is None or slot in pinned
        if planned.exact and inside:
            assert matched, f"exact range holds a non-match: {record}"


def test_keyset_window_is_planned_exactly() -> None:
    node = v2(
        "LastUpdateDate > '2024-01-01T00:00Z'"
        " or (LastUpdateDate = '2024-01-01T00:00Z' and PartyId > 300000010000100)"
    )
    planned = key_range(node)
    assert planned.exact
    assert planned.lo == keys.index_key(JAN1, keys.first_slot_with_party_id_above(300000010000100, False))
    assert planned.hi == keys.MAX_KEY
