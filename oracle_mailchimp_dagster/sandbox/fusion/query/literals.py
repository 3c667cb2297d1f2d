"""Turning `q` literal text into the typed value an attribute compares against."""

import re
from typing import Literal

from oracle_mailchimp_dagster.sandbox.fusion.query.ast import QueryError, Value
from oracle_mailchimp_dagster.sandbox.fusion.schema import AttrKind
from oracle_mailchimp_dagster.sandbox.fusion.timestamps import parse_timestamp

LiteralForm = Literal["string", "number", "bare"]
_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?\d+\.\d+")


def coerce(attr: str, kind: AttrKind, text: str, form: LiteralForm) -> Value:
    """The value `text` stands for when compared with `attr`; QueryError when it cannot be one.

    `form` is how the literal was written: quoted (`string`), a bare number (`number`, v2) or an unquoted
    query-by-example value (`bare`, v1).
    """
    if kind == "string":
        return text
    if kind == "integer":
        if _INTEGER.fullmatch(text):
            return int(text)
        if _DECIMAL.fullmatch(text):
            return float(text)
        raise QueryError(f"Value {text} is not a number, and attribute {attr} is numeric.")
    if form == "number":
        raise QueryError(f"Timestamp values for {attr} must be quoted, like '2024-01-31T09:30:00Z'.")
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise QueryError(f"Value {text} of attribute {attr} is not a valid timestamp.") from exc
