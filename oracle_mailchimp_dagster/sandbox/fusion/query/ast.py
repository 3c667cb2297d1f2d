"""The predicate tree both `q` syntaxes parse into, and the schema the parsers check names against."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from oracle_mailchimp_dagster.sandbox.fusion.schema import AttrKind

Value = str | int | float
CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]


class QueryError(ValueError):
    """A `q` the framework rejects; the message says why (the server wraps it in an ADF 400)."""


@dataclass(frozen=True)
class QuerySchema:
    """Which attributes `q` may name (queryable ones, with their kinds) and which exist at all."""

    kinds: Mapping[str, AttrKind]
    known: frozenset[str]

    def kind_of(self, name: str) -> AttrKind:
        kind = self.kinds.get(name)
        if kind is not None:
            return kind
        if name in self.known:
            raise QueryError(f"Attribute {name} is not queryable.")
        raise QueryError(f"Attribute {name} is not found in the resource (names are case-sensitive).")


@dataclass(frozen=True)
class Compare:
    attr: str
    op: CompareOp
    value: Value


@dataclass(frozen=True)
class Like:
    attr: str
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class Between:
    attr: str
    low: Value
    high: Value
    negated: bool = False


@dataclass(frozen=True)
class In:
    attr: str
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    attr: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    parts: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    parts: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    part: "Node"


Node = Compare | Like | Between | In | IsNull | And | Or | Not


def conjoin(*nodes: Node | None) -> Node | None:
    """AND of the given nodes, flattening nested ANDs; None when there is nothing to require."""
    parts: list[Node] = []
    for node in nodes:
        if node is None:
            continue
        parts.extend(node.parts if isinstance(node, And) else (node,))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def attributes_of(node: Node) -> frozenset[str]:
    """Every attribute name a predicate mentions."""
    match node:
        case And(parts) | Or(parts):
            return frozenset().union(*(attributes_of(p) for p in parts))
        case Not(part):
            return attributes_of(part)
        case _:
            return frozenset({node.attr})
