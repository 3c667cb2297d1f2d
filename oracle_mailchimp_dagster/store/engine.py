"""Engine set-up and transactions that behave the same way on SQLite and PostgreSQL."""

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from oracle_mailchimp_dagster.store.errors import DatabaseUnavailableError
from oracle_mailchimp_dagster.store.location import display_url, resolve_database_url

_WRITE_OPTION = "oracle_mailchimp_write"
SQLITE_BUSY_TIMEOUT_S = 30.0


def _configure_sqlite(engine: Engine) -> None:
    """Take transaction control from pysqlite (its implicit BEGIN breaks atomic DDL and write locks).

    Write transactions start with BEGIN IMMEDIATE, so two writers queue on the busy timeout instead of
    one failing at once when it upgrades a read lock; readers keep plain BEGIN and never block in WAL mode.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_private_file(path: Path) -> None:
    """Create `path` (and a missing folder) for its user alone, 0600 and 0700, unless it exists.

    SQLite creates its -wal, -shm and -journal files with the database file's permissions, so they are
    private too; an existing file keeps its mode (`db upgrade` tightens it).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def create_database_engine(url: URL) -> Engine:
    """An engine for a normalised URL (see `location.normalise_url`)."""
    if url.get_backend_name() == "sqlite":
        if url.database:
            create_private_file(Path(url.database))
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class Database:
    """The app database: an engine plus read and write transactions. Nothing outside `store/` writes SQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: URL | None = None) -> "Database":
        """Open the configured database (`ORACLE_MAILCHIMP_DATABASE_URL` or the default SQLite file)."""
        return cls(create_database_engine(resolve_database_url() if url is None else url))

    @property
    def url(self) -> URL:
        return self.engine.url

    @property
    def display_url(self) -> str:
        return display_url(self.engine.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _connect(self) -> Connection:
        try:
            return self.engine.connect()
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "connection failed"
            raise DatabaseUnavailableError(f"cannot open database {self.display_url}: {reason}") from None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction for reads; rolled back at the end."""
        with self._connect() as conn, conn.begin() as transaction:
            yield conn
            transaction.rollback()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One atomic write transaction: committed when the block ends, rolled back if it raises."""
        with self._connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()
