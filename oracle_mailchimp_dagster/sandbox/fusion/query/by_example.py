"""Parser of the query-by-example `q` syntax (framework v1, the default without a header).

`expr1;expr2` ANDs expressions. Each is one attribute with one or more comparisons joined by and/or
without repeating the name: `LastUpdateDate>2024-01-01T00:00Z and <=2024-01-02T00:00Z`. Values are bare or
single-quoted; `%` in a value compared with `=` (`!=`) means LIKE (NOT LIKE). Rowmatch-only constructs
(parentheses, LIKE/BETWEEN/IN/IS keywords, double quotes on timestamps, and/or across attributes) fail.
"""

import re

from oracle_mailchimp_dagster.sandbox.fusion.query.ast import (
    And,
    Compare,
    CompareOp,
    Like,
    Node,
    Or,
    QueryError,
    QuerySchema,
)
from oracle_mailchimp_dagster.sandbox.fusion.query.literals import LiteralForm, coerce
from oracle_mailchimp_dagster.sandbox.fusion.schema import AttrKind

_OP_TEXT = r"(?:!=|<>|>=|<=|=|>|<)"
_IDENT = re.compile(r"\s*([A-Za-z_]\w*)")
_OP = re.compile(rf"\s*({_OP_TEXT})\s*")
_CONNECTOR = re.compile(rf"\s+(and|or)\s*(?={_OP_TEXT})", re.IGNORECASE)
_CROSS_ATTRIBUTE = re.compile(rf"\s(?:and|or)\s+[A-Za-z_]\w*\s*{_OP_TEXT}", re.IGNORECASE)
_OPS: dict[str, CompareOp] = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def parse_by_example(text: str, schema: QuerySchema) -> Node:
    """The predicate a query-by-example `q` means; QueryError with the reason when it means none."""
    nodes = [_Expression(part, schema).parse() for part in _split_expressions(text)]
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def _split_expressions(text: str) -> list[str]:
    """Split on `;` outside single-quoted values."""
    parts: list[str] = []
    start, quoted = 0, False
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    for part in parts:
        if not part.strip():
            raise QueryError("An expression between ';' separators is empty.")
    return parts


class _Expression:
    def __init__(self, text: str, schema: QuerySchema) -> None:
        self.text = text
        self.schema = schema

    def parse(self) -> Node:
        text = self.text
        match = _IDENT.match(text)
        if match is None:
            raise QueryError(f"Expression {text.strip()!r} does not start with an attribute name.")
        attr = match[1]
        kind = self.schema.kind_of(attr)
        pos = match.end()
        groups: list[list[Node]] = [[]]
        while True:
            op_match = _OP.match(text, pos)
            if op_match is None:
                rest = text[pos:].strip()[:24] or "the end of the expression"
                raise QueryError(f"Expected a comparison operator after {attr}, found {rest!r}.")
            raw_value, form, pos = self._value(op_match.end())
            groups[-1].append(self._condition(attr, kind, _OPS[op_match[1]], raw_value, form))
            if not text[pos:].strip():
                break
            connector = _CONNECTOR.match(text, pos)
            if connector is None:
                raise QueryError(
                    f"Unexpected text {text[pos:].strip()[:24]!r} after a value of {attr}; join "
                    "conditions on different attributes with ';'."
                )
            if connector[1].lower() == "or":
                groups.append([])
            pos = connector.end()
        ors = [group[0] if len(group) == 1 else And(tuple(group)) for group in groups]
        return ors[0] if len(ors) == 1 else Or(tuple(ors))

    def _value(self, pos: int) -> tuple[str, LiteralForm, int]:
        text = self.text
        if text.startswith("'", pos):
            chars: list[str] = []
            i = pos + 1
            while i < len(text):
                if text[i] == "'":
                    if text.startswith("''", i):
                        chars.append("'")
                        i += 2
                        continue
                    return "".join(chars), "string", i + 1
                chars.append(text[i])
                i += 1
            raise QueryError("A quoted value is not closed.")
        connector = _CONNECTOR.search(text, pos)
        end = connector.start() if connector else len(text)
        value = text[pos:end].strip()
        if not value:
            raise QueryError("A comparison has no value.")
        if _CROSS_ATTRIBUTE.search(value):
            raise QueryError(
                f"Value {value!r} joins another attribute with and/or; join conditions on different "
                "attributes with ';'."
            )
        return value, "bare", end

    @staticmethod
    def _condition(attr: str, kind: AttrKind, op: CompareOp, raw: str, form: LiteralForm) -> Node:
        if kind == "string" and "%" in raw and op in ("=", "!="):
            return Like(attr, raw, negated=op == "!=")
        return Compare(attr, op, coerce(attr, kind, raw, form))
