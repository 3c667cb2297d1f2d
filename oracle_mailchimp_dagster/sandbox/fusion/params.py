"""Reading the ADF collection query parameters (limit, offset, orderBy, fields, finder, links, expand ...).

Pure functions: each returns the parsed value or raises the 400 the pod would send.
"""

from dataclasses import dataclass

from oracle_mailchimp_dagster.sandbox.fusion.adf import bad_parameter
from oracle_mailchimp_dagster.sandbox.fusion.query import Node, QueryError, QuerySchema, parse_q
from oracle_mailchimp_dagster.sandbox.fusion.query.ast import Compare
from oracle_mailchimp_dagster.sandbox.fusion.query.literals import coerce
from oracle_mailchimp_dagster.sandbox.fusion.schema import ATTRIBUTE_INDEX, BY_NAME, NAMES

CHILDREN = ("PrimaryAddress", "Address", "ContactPoint")
#: finder name -> (variable, attribute it binds)
FINDERS: dict[str, tuple[str, str]] = {
    "PrimaryKey": ("PartyNumber", "PartyNumber"),
    "AccountPartyNumberRF": ("PartyNumber", "PartyNumber"),
    "PartyIdAltKey": ("PartyId", "PartyId"),
}

QUERY_SCHEMA = QuerySchema(
    kinds={a.name: a.kind for a in BY_NAME.values() if a.queryable}, known=frozenset(NAMES)
)


@dataclass(frozen=True)
class ItemShape:
    """How items are rendered: projected fields (None = all), links, expanded children."""

    fields: tuple[int, ...] | None = None
    only_data: bool = False
    links: frozenset[str] | None = None
    expand: tuple[str, ...] = ()


def parse_flag(raw: str | None) -> bool:
    return raw is not None and raw.strip().lower() == "true"


def parse_limit(raw: str | None, default: int, cap: int) -> int:
    if raw is None:
        return min(default, cap)
    text = raw.strip()
    if not text.isdigit() or int(text) <= 0:
        raise bad_parameter("limit", raw, "The limit must be a positive integer.")
    return min(int(text), cap)


def parse_offset(raw: str | None) -> int:
    if raw is None:
        return 0
    text = raw.strip()
    if not text.isdigit():
        raise bad_parameter("offset", raw, "The offset must be a non-negative integer.")
    return int(text)


def parse_order_by(raw: str | None) -> tuple[tuple[str, bool], ...]:
    """`Attr[:asc|:desc],...` -> ((Attr, descending), ...); names are case-sensitive and must be known."""
    if raw is None or not raw.strip():
        return ()
    terms: list[tuple[str, bool]] = []
    for part in raw.split(","):
        name, _, direction = part.strip().partition(":")
        attribute = BY_NAME.get(name)
        if attribute is None or not attribute.queryable:
            raise bad_parameter("orderBy", raw, f"Attribute {name!r} cannot be used to sort.")
        if direction not in ("", "asc", "desc"):
            raise bad_parameter("orderBy", raw, f"Sort direction {direction!r} is not asc or desc.")
        if any(name == seen for seen, _ in terms):
            raise bad_parameter("orderBy", raw, f"Attribute {name} appears twice.")
        terms.append((name, direction == "desc"))
    return tuple(terms)


def parse_fields(raw: str | None) -> tuple[int, ...] | None:
    if raw is None:
        return None
    if not raw.strip():
        return ()
    indices: list[int] = []
    for name in raw.split(","):
        index = ATTRIBUTE_INDEX.get(name.strip())
        if index is None:
            raise bad_parameter("fields", raw, f"Attribute {name.strip()!r} is not found in the resource.")
        if index not in indices:
            indices.append(index)
    return tuple(indices)


def parse_links(raw: str | None) -> frozenset[str] | None:
    if raw is None:
        return None
    return frozenset(rel.strip() for rel in raw.split(",") if rel.strip())


def parse_expand(raw: str | None) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return ()
    if raw.strip() == "all":
        return CHILDREN
    names = tuple(dict.fromkeys(name.strip() for name in raw.split(",")))
    for name in names:
        if name not in CHILDREN:
            raise bad_parameter("expand", raw, f"{name!r} is not a child of accounts.")
    return names


def parse_finder(raw: str | None) -> Node | None:
    """`Name;Var=value` -> the condition the finder applies."""
    if raw is None or not raw.strip():
        return None
    name, _, bindings = raw.partition(";")
    finder = FINDERS.get(name.strip())
    if finder is None:
        raise bad_parameter("finder", raw, f"Finder {name.strip()!r} is not defined on accounts.")
    variable, attribute = finder
    values: dict[str, str] = {}
    for binding in filter(None, bindings.split(",")):
        key, equals, value = binding.partition("=")
        if not equals:
            raise bad_parameter("finder", raw, f"Binding {binding!r} is not Variable=value.")
        values[key.strip()] = value.strip()
    unknown = set(values) - {variable}
    if unknown or variable not in values:
        raise bad_parameter("finder", raw, f"Finder {name.strip()} takes exactly the variable {variable}.")
    kind = BY_NAME[attribute].kind
    try:
        return Compare(attribute, "=", coerce(attribute, kind, values[variable], "string"))
    except QueryError as exc:
        raise bad_parameter("finder", raw, str(exc)) from None


def parse_query(raw: str | None, version: int) -> Node | None:
    if raw is None:
        return None
    try:
        return parse_q(raw, version, QUERY_SCHEMA)
    except QueryError as exc:
        raise bad_parameter("q", raw, str(exc)) from None


def parse_item_shape(
    fields: str | None, only_data: str | None, links: str | None, expand: str | None
) -> ItemShape:
    parsed_fields = parse_fields(fields)
    return ItemShape(
        fields=parsed_fields,
        only_data=parse_flag(only_data),
        links=parse_links(links),
        # `fields` wins over `expand` when both are given.
        expand=() if parsed_fields is not None else parse_expand(expand),
    )


def describe_attributes() -> list[dict[str, object]]:
    return [attribute.describe() for attribute in BY_NAME.values()]
