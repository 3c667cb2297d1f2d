"""Where the app database lives: one rule, shown in `--help` and applied everywhere."""

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from oracle_mailchimp_dagster.store.errors import DatabaseConfigError

DATABASE_URL_ENV = "ORACLE_MAILCHIMP_DATABASE_URL"
DEFAULT_SQLITE_NAME = "oracle_mailchimp.db"
POSTGRES_DRIVER = "postgresql+psycopg2"

LOCATION_HELP = (
    f"Database: ${DATABASE_URL_ENV} (sqlite:///PATH or postgresql://USER@HOST/DB), "
    f"else the SQLite file {DEFAULT_SQLITE_NAME} in $DAGSTER_HOME, or in the working directory "
    "when DAGSTER_HOME is unset."
)


def default_sqlite_path(env: Mapping[str, str], cwd: Path) -> Path:
    """`oracle_mailchimp.db` beside Dagster's own storage, so one directory holds a deployment's state."""
    home = env.get("DAGSTER_HOME")
    return (Path(home) if home else cwd).absolute() / DEFAULT_SQLITE_NAME


def normalise_url(raw: str) -> URL:
    """Parse a database URL and pin PostgreSQL to psycopg2 (SQLAlchemy 2.1 would default to psycopg 3)."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise DatabaseConfigError(
            f"{DATABASE_URL_ENV} is not a database URL; expected sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgres", "postgresql"):
        if driver not in ("", "psycopg2"):
            raise DatabaseConfigError(
                f"PostgreSQL driver '{driver}' is not supported; use postgresql:// (psycopg2 is used)"
            )
        return url.set(drivername=POSTGRES_DRIVER)
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise DatabaseConfigError(f"SQLite driver '{driver}' is not supported; use sqlite:///PATH")
        if not url.database or url.database == ":memory:":
            raise DatabaseConfigError(
                "an in-memory SQLite database would forget everything; use sqlite:///PATH to a file"
            )
        return url
    raise DatabaseConfigError(f"database '{backend}' is not supported; use SQLite or PostgreSQL")


def resolve_database_url(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> URL:
    """The URL from the environment, or the default SQLite file."""
    env = os.environ if env is None else env
    raw = env.get(DATABASE_URL_ENV, "").strip()
    if raw:
        return normalise_url(raw)
    path = default_sqlite_path(env, Path.cwd() if cwd is None else cwd)
    return URL.create("sqlite", database=str(path))


def display_url(url: URL) -> str:
    """The URL with any password masked, safe for output and errors."""
    return url.render_as_string(hide_password=True)
