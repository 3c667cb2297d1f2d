"""Small SQL helpers shared by the repositories: dialect-aware upserts and chunked IN lists."""

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

T = TypeVar("T")

# Well under SQLite's and PostgreSQL's bound-parameter limits, and large enough to keep round trips few.
IN_CHUNK = 500
WRITE_CHUNK = 10_000


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def upsert(
    conn: Connection, table: sa.Table, key_columns: Sequence[str]
) -> sqlite.Insert | postgresql.Insert:
    """`INSERT ... ON CONFLICT (key) DO UPDATE SET <every other column>` for this connection's dialect."""
    statement = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in key_columns}
    return statement.on_conflict_do_update(index_elements=list(key_columns), set_=updates)


def insert_ignoring_duplicates(conn: Connection, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """`INSERT ... ON CONFLICT DO NOTHING` for this connection's dialect."""
    statement = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    return statement.on_conflict_do_nothing()


def select_in(
    conn: Connection, table: sa.Table, tenant_id: str, column: str, values: Iterable[str]
) -> Iterator[RowMapping]:
    """The tenant's rows whose `column` is one of `values`, queried IN_CHUNK values at a time."""
    for chunk in chunked(set(values), IN_CHUNK):
        query = sa.select(table).where(table.c.tenant_id == tenant_id, table.c[column].in_(chunk))
        for row in conn.execute(query):
            yield row._mapping
