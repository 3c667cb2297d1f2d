"""Compile a predicate tree into a function of a stored record, with SQL's three-valued logic.

A comparison with a null attribute is unknown (None); AND/OR/NOT propagate unknown as SQL does, and only
records whose predicate is True match, so `NOT (EmailAddress = 'x')` does not match a null email.
"""

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

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

Predicate = Callable[[Sequence[Any]], bool | None]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def like_matcher(pattern: str) -> Callable[[str], bool]:
    """SQL LIKE: `%` any run of characters, `_` exactly one; case-sensitive, whole value."""
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    compiled = re.compile(regex, re.DOTALL)
    return lambda value: compiled.fullmatch(value) is not None


def compile_predicate(node: Node, index: Mapping[str, int]) -> Predicate:
    """A function returning True, False or None (unknown) for a record laid out as `index` says."""
    match node:
        case Compare(attr, op, value):
            i, compare = index[attr], _OPERATORS[op]
            return lambda r: None if (v := r[i]) is None else compare(v, value)
        case Like(attr, pattern, negated):
            i, matches = index[attr], like_matcher(pattern)
            return lambda r: None if (v := r[i]) is None else matches(v) != negated
        case Between(attr, low, high, negated):
            i = index[attr]
            return lambda r: None if (v := r[i]) is None else (low <= v <= high) != negated
        case In(attr, values, negated):
            i, members = index[attr], frozenset(values)
            return lambda r: None if (v := r[i]) is None else (v in members) != negated
        case IsNull(attr, negated):
            i = index[attr]
            return lambda r: (r[i] is None) != negated
        case Not(part):
            inner = compile_predicate(part, index)
            return lambda r: None if (v := inner(r)) is None else not v
        case And(parts):
            return _all([compile_predicate(p, index) for p in parts])
        case Or(parts):
            return _any([compile_predicate(p, index) for p in parts])
    raise TypeError(f"not a predicate node: {node!r}")


def _all(predicates: list[Predicate]) -> Predicate:
    def check(record: Sequence[Any]) -> bool | None:
        result: bool | None = True
        for predicate in predicates:
            value = predicate(record)
            if value is False:
                return False
            if value is None:
                result = None
        return result

    return check


def _any(predicates: list[Predicate]) -> Predicate:
    def check(record: Sequence[Any]) -> bool | None:
        result: bool | None = False
        for predicate in predicates:
            value = predicate(record)
            if value is True:
                return True
            if value is None:
                result = None
        return result

    return check
