"""Parser of the rowmatch `q` syntax (framework v2+): SQL-like conditions, and/or/not, parentheses.

Grammar (keywords case-insensitive)::

    expr      := and_expr (OR and_expr)*
    and_expr  := not_expr (AND not_expr)*
    not_expr  := NOT not_expr | '(' expr ')' | condition
    condition := Attr op literal | Attr [NOT] LIKE literal | Attr [NOT] BETWEEN literal AND literal
               | Attr [NOT] IN '(' literal (',' literal)* ')' | Attr IS [NOT] NULL
    literal   := 'string' | "string" | number
"""

from oracle_mailchimp_dagster.sandbox.fusion.query.ast import (
    And,
    Between,
    Compare,
    CompareOp,
    In,
    IsNull,
    Like,
    Node,
    Not,
    Or,
    QueryError,
    QuerySchema,
    Value,
)
from oracle_mailchimp_dagster.sandbox.fusion.query.lexer import Token, tokenize
from oracle_mailchimp_dagster.sandbox.fusion.query.literals import coerce
from oracle_mailchimp_dagster.sandbox.fusion.schema import AttrKind

KEYWORDS = frozenset({"AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL"})
_OPS: dict[str, CompareOp] = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def parse_rowmatch(text: str, schema: QuerySchema) -> Node:
    """The predicate a rowmatch expression means; QueryError with the reason when it means none."""
    return _Parser(tokenize(text), schema).parse()


class _Parser:
    def __init__(self, tokens: list[Token], schema: QuerySchema) -> None:
        self._tokens = tokens
        self._pos = 0
        self._schema = schema

    def parse(self) -> Node:
        node = self._or()
        token = self._peek()
        if token.kind != "eof":
            raise QueryError(f"Unexpected {token.text!r} at position {token.pos + 1}.")
        return node

    def _peek(self) -> Token:
        return self._tokens[self._pos]

    def _next(self) -> Token:
        token = self._tokens[self._pos]
        self._pos += 1
        return token

    def _accept_keyword(self, word: str) -> bool:
        if self._peek().is_keyword(word):
            self._pos += 1
            return True
        return False

    def _expect_keyword(self, word: str) -> None:
        if not self._accept_keyword(word):
            raise QueryError(f"Expected {word} at position {self._peek().pos + 1}.")

    def _expect(self, kind: str, what: str) -> Token:
        token = self._next()
        if token.kind != kind:
            found = token.text or "the end of the expression"
            raise QueryError(f"Expected {what} at position {token.pos + 1}, found {found!r}.")
        return token

    def _or(self) -> Node:
        parts = [self._and()]
        while self._accept_keyword("OR"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def _and(self) -> Node:
        parts = [self._not()]
        while self._accept_keyword("AND"):
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _not(self) -> Node:
        if self._accept_keyword("NOT"):
            return Not(self._not())
        if self._peek().kind == "lparen":
            self._next()
            node = self._or()
            self._expect("rparen", "')'")
            return node
        return self._condition()

    def _condition(self) -> Node:
        token = self._expect("ident", "an attribute name")
        if token.text.upper() in KEYWORDS:
            raise QueryError(f"Expected an attribute name at position {token.pos + 1}, found {token.text!r}.")
        attr = token.text
        kind = self._schema.kind_of(attr)
        following = self._peek()
        if following.kind == "op":
            self._next()
            return Compare(attr, _OPS[following.text], self._literal(attr, kind))
        if self._accept_keyword("IS"):
            negated = self._accept_keyword("NOT")
            self._expect_keyword("NULL")
            return IsNull(attr, negated)
        negated = self._accept_keyword("NOT")
        if self._accept_keyword("LIKE"):
            if kind != "string":
                raise QueryError(f"LIKE needs a text attribute; {attr} is not one.")
            return Like(attr, str(self._literal(attr, kind)), negated)
        if self._accept_keyword("BETWEEN"):
            low = self._literal(attr, kind)
            self._expect_keyword("AND")
            return Between(attr, low, self._literal(attr, kind), negated)
        if self._accept_keyword("IN"):
            self._expect("lparen", "'(' after IN")
            values = [self._literal(attr, kind)]
            while self._peek().kind == "comma":
                self._next()
                values.append(self._literal(attr, kind))
            self._expect("rparen", "')' closing the IN list")
            return In(attr, tuple(values), negated)
        found = following.text or "the end of the expression"
        raise QueryError(
            f"Expected an operator after {attr} at position {following.pos + 1}, found {found!r}."
        )

    def _literal(self, attr: str, kind: AttrKind) -> Value:
        token = self._next()
        if token.kind == "string":
            return coerce(attr, kind, token.text, "string")
        if token.kind == "number":
            return coerce(attr, kind, token.text, "number")
        if token.kind == "ident" and token.text.upper() not in KEYWORDS:
            raise QueryError(
                f"Value {token.text} at position {token.pos + 1} is not a literal: quote text values, "
                f"like '{token.text}'."
            )
        found = token.text or "the end of the expression"
        raise QueryError(f"Expected a value at position {token.pos + 1}, found {found!r}.")
