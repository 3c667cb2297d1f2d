"""The ADF `q` parameter: both syntaxes, evaluation and index planning (pure, no I/O)."""

from oracle_mailchimp_dagster.sandbox.fusion.query.ast import Node, QueryError, QuerySchema
from oracle_mailchimp_dagster.sandbox.fusion.query.by_example import parse_by_example
from oracle_mailchimp_dagster.sandbox.fusion.query.rowmatch import parse_rowmatch


def parse_q(text: str, framework_version: int, schema: QuerySchema) -> Node | None:
    """Parse `q` as the framework version reads it: query-by-example below 2, rowmatch from 2 on."""
    if not text.strip():
        return None
    if framework_version >= 2:
        return parse_rowmatch(text, schema)
    return parse_by_example(text, schema)


__all__ = ["Node", "QueryError", "QuerySchema", "parse_q"]
