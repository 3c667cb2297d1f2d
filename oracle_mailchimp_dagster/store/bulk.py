"""Bulk writes for the run commit: COPY on PostgreSQL, raw executemany on SQLite.

SQLAlchemy's per-row parameter processing costs more than the database itself at these volumes
(a million ledger rows per run), so this module formats values once, the way SQLAlchemy stores them
(UTC timestamps, JSON text), and hands whole batches to the driver: ~3x faster on SQLite, ~5x on
PostgreSQL. Both paths run inside the caller's transaction, so a bulk write stays atomic.

The formatting can also be done before the transaction (`prepare_insert`, `prepare_upsert`): a commit
then holds its locks only while the driver writes. On SQLite that matters, since a writer holds the
whole database and every Mailchimp request takes and gives back a connection slot row in it.
"""

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
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


def _copy(conn: Connection, table_name: str, columns: Sequence[str], text: str) -> None:
    statement = f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(statement, io.StringIO(text))
    except conn.dialect.loaded_dbapi.Error as exc:
        # The same exception types (IntegrityError, ...) as every other statement raises.
        raise sa.exc.DBAPIError.instance(
            statement, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    finally:
        cursor.close()


def _copy_text(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    return "".join("\t".join([copy_text(row[c]) for c in columns]) + "\n" for row in rows)


def _sqlite_rows(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    convert = sqlite_value
    return [tuple([convert(row[c]) for c in columns]) for row in rows]


def _sqlite_insert_sql(table: sa.Table, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


@dataclass(frozen=True)
class PreparedWrite:
    """Rows formatted for one dialect, written by `write` inside the caller's transaction: appended,
    or (with `key_columns`) inserted or replaced by key, an existing row only where `replace_if`."""

    table: sa.Table
    dialect: str
    columns: tuple[str, ...]
    payload: str | list[tuple[Any, ...]]  # COPY text (PostgreSQL) or parameter tuples (SQLite)
    rows: int
    key_columns: tuple[str, ...] = ()
    replace_if: str | None = None

    def _conflict(self) -> str:
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c not in self.key_columns)
        conflict = f"ON CONFLICT ({', '.join(self.key_columns)}) DO UPDATE SET {updates}"
        return conflict + (f" WHERE {self.replace_if}" if self.replace_if is not None else "")

    def write(self, conn: Connection) -> None:
        if conn.dialect.name != self.dialect:
            raise ValueError(f"rows formatted for {self.dialect} written to {conn.dialect.name}")
        if self.dialect != "postgresql":
            sql = _sqlite_insert_sql(self.table, self.columns)
            conn.exec_driver_sql(f"{sql} {self._conflict()}" if self.key_columns else sql, self.payload)
            return
        assert isinstance(self.payload, str)
        if not self.key_columns:
            _copy(conn, self.table.name, self.columns, self.payload)
            return
        stage = f"_stage_{self.table.name}"
        names = ", ".join(self.columns)
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {self.table.name}) ON COMMIT DELETE ROWS"
        )
        _copy(conn, stage, self.columns, self.payload)
        conn.exec_driver_sql(
            f"INSERT INTO {self.table.name} ({names}) SELECT {names} FROM {stage} {self._conflict()}"
        )
        conn.exec_driver_sql(f"TRUNCATE {stage}")


def prepare_insert(dialect: str, table: sa.Table, rows: Sequence[dict[str, Any]]) -> PreparedWrite | None:
    """Rows to append (every row has the same keys); None when there is none."""
    return _prepare(dialect, table, rows)


def prepare_upsert(
    dialect: str,
    table: sa.Table,
    key_columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    *,
    replace_if: str | None = None,
) -> PreparedWrite | None:
    """Rows to insert or replace by key (keys unique within `rows`); see `bulk_upsert`."""
    return _prepare(dialect, table, rows, tuple(key_columns), replace_if)


def _prepare(
    dialect: str,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    key_columns: tuple[str, ...] = (),
    replace_if: str | None = None,
) -> PreparedWrite | None:
    if not rows:
        return None
    columns = tuple(rows[0])
    payload = _copy_text(columns, rows) if dialect == "postgresql" else _sqlite_rows(columns, rows)
    return PreparedWrite(table, dialect, columns, payload, len(rows), key_columns, replace_if)


def bulk_insert(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows (every row has the same keys)."""
    prepared = prepare_insert(conn.dialect.name, table, rows)
    if prepared is not None:
        prepared.write(conn)


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
    prepared = prepare_upsert(conn.dialect.name, table, key_columns, rows, replace_if=replace_if)
    if prepared is not None:
        prepared.write(conn)
