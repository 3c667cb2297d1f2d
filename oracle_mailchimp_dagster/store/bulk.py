"""Bulk writes for the run commit: COPY on PostgreSQL, raw executemany on SQLite.

SQLAlchemy's per-row parameter processing costs more than the database itself at these volumes
(a million ledger rows per run), so this module formats values once, the way SQLAlchemy stores them
(UTC timestamps, JSON text), and hands whole batches to the driver: ~3x faster on SQLite, ~5x on
PostgreSQL. Both paths run inside the caller's transaction, so a bulk write stays atomic.
"""

import io
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# SQLAlchemy's SQLite DATETIME storage format (fixed width, so text order is time order).
_SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"timestamp {value.isoformat()} has no time zone; pass an aware UTC datetime")
    return value.astimezone(UTC)


@lru_cache(maxsize=4096)
def _copy_timestamp(value: datetime) -> str:
    return _utc(value).isoformat()


@lru_cache(maxsize=4096)
def _sqlite_timestamp(value: datetime) -> str:
    return _utc(value).strftime(_SQLITE_TIMESTAMP)


def copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    kind = type(value)
    if kind is str:
        return str(value).translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if kind is int:
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if isinstance(value, datetime):
        return _copy_timestamp(value)
    if isinstance(value, list | tuple | dict):
        return json.dumps(value).translate(_COPY_ESCAPES)
    return str(value).translate(_COPY_ESCAPES)


def sqlite_value(value: Any) -> Any:
    """One value as SQLAlchemy would bind it on SQLite."""
    if isinstance(value, datetime):
        return _sqlite_timestamp(value)
    if isinstance(value, list | tuple | dict):
        return json.dumps(value)
    return value


def _copy(conn: Connection, table_name: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    buffer.writelines("\t".join([copy_text(row[c]) for c in columns]) + "\n" for row in rows)
    buffer.seek(0)
    statement = f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(statement, buffer)
    except conn.dialect.loaded_dbapi.Error as exc:
        # The same exception types (IntegrityError, ...) as every other statement raises.
        raise sa.exc.DBAPIError.instance(
            statement, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    finally:
        cursor.close()


def _sqlite_executemany(
    conn: Connection, sql: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    convert: Callable[[Any], Any] = sqlite_value
    conn.exec_driver_sql(sql, [tuple([convert(row[c]) for c in columns]) for row in rows])


def _sqlite_insert_sql(table: sa.Table, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


def bulk_insert(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows (every row has the same keys)."""
    if not rows:
        return
    columns = list(rows[0])
    if conn.dialect.name == "postgresql":
        _copy(conn, table.name, columns, rows)
    else:
        _sqlite_executemany(conn, _sqlite_insert_sql(table, columns), columns, rows)


def bulk_upsert(
    conn: Connection,
    table: sa.Table,
    key_columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    *,
    replace_if: str | None = None,
) -> None:
    """Insert or replace rows by key; keys must be unique within `rows`.

    `replace_if` is SQL deciding whether an existing row is replaced (`excluded.<column>` is the new
    value, `<table>.<column>` the stored one); without it every existing row is.

    On PostgreSQL the rows are copied into a session-local staging table, then merged with one
    `INSERT ... SELECT ... ON CONFLICT DO UPDATE`.
    """
    if not rows:
        return
    columns = list(rows[0])
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key_columns)
    conflict = f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}"
    if replace_if is not None:
        conflict += f" WHERE {replace_if}"
    if conn.dialect.name != "postgresql":
        _sqlite_executemany(conn, f"{_sqlite_insert_sql(table, columns)} {conflict}", columns, rows)
        return
    stage = f"_stage_{table.name}"
    names = ", ".join(columns)
    conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table.name}) ON COMMIT DELETE ROWS")
    _copy(conn, stage, columns, rows)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage} {conflict}")
    conn.exec_driver_sql(f"TRUNCATE {stage}")
