"""Tokens of the rowmatch (`REST-Framework-Version` >= 2) `q` syntax."""

import re
from dataclasses import dataclass
from typing import Literal

from oracle_mailchimp_dagster.sandbox.fusion.query.ast import QueryError

TokenKind = Literal["ident", "string", "number", "op", "lparen", "rparen", "comma", "eof"]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
    |(?P<number>-?\d+(?:\.\d+)?(?![\w.:-]))
    |(?P<ident>[A-Za-z_]\w*)
    |(?P<op><>|!=|>=|<=|=|>|<)
    |(?P<lparen>\()
    |(?P<rparen>\))
    |(?P<comma>,)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    pos: int

    def is_keyword(self, word: str) -> bool:
        return self.kind == "ident" and self.text.upper() == word


def tokenize(text: str) -> list[Token]:
    """Split a rowmatch expression into tokens; string tokens carry their unescaped content."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] in "'\"":
                raise QueryError(f"The string literal starting at position {pos + 1} is not closed.")
            raise QueryError(f"Unexpected text {text[pos : pos + 24]!r} at position {pos + 1}.")
        kind = match.lastgroup
        if kind == "string":
            quote = match[0][0]
            tokens.append(Token("string", match[0][1:-1].replace(quote * 2, quote), pos))
        elif kind != "ws":
            assert kind is not None
            tokens.append(Token(kind, match[0], pos))  # type: ignore[arg-type]
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens
