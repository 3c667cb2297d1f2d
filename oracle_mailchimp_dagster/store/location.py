"""Where the app database lives: one rule, shown in `--help` and applied everywhere."""

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
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


# Query parameters of a database URL that may carry a secret (never printed, never put in a command).
_SECRET_PARAMS = ("pass", "secret", "token", "key")


@dataclass(frozen=True)
class DatabaseLocation:
    """The app database found by the one rule, and how: `setting` (a resource's `database_url`),
    `env` (DATABASE_URL_ENV), `dagster_home` or `cwd` (the default SQLite file)."""

    url: URL
    source: str
    home: Path | None = None

    @property
    def sqlite_path(self) -> Path | None:
        sqlite = self.url.get_backend_name() == "sqlite" and self.url.database
        return Path(self.url.database) if sqlite and self.url.database else None

    def where(self) -> str:
        """Where it looked, for a person (any password masked)."""
        if self.source == "dagster_home":
            return f"{self.sqlite_path} (in $DAGSTER_HOME)"
        if self.source == "cwd":
            unset = f"DAGSTER_HOME and {DATABASE_URL_ENV} are unset"
            return f"{self.sqlite_path} (the working directory: {unset})"
        named = f"${DATABASE_URL_ENV}" if self.source == "env" else "the database_url setting"
        return f"{shown_url(self.url)} ({named})"

    def require_existing(self) -> None:
        """Readers call this first: a missing SQLite file is an error naming where it looked and how to
        point at the right database; nothing is created (SQLite would make an empty file)."""
        path = self.sqlite_path
        if path is None or (path.is_file() and path.stat().st_size > 0):
            return
        found = "an empty file (not an app database)" if path.is_file() else "no app database"
        raise DatabaseConfigError(
            f"{found} at {self.where()}: point DAGSTER_HOME at the Dagster instance's folder (the one "
            f"holding {DEFAULT_SQLITE_NAME}) or {DATABASE_URL_ENV} at the app database; a run's metadata "
            "prints the audit command with it (`DAGSTER_HOME=/path oracle-mailchimp audit ...`)"
        )

    def shell_prefix(self) -> str:
        """What to put before a command so that it finds this database from any shell: the folder or
        URL as a variable assignment, or '' when the URL holds a secret (see `shell_note`)."""
        if self.source == "dagster_home" and self.home is not None:
            return f"DAGSTER_HOME={shlex.quote(str(self.home))}"
        if holds_secret(self.url):
            return ""
        return f"{DATABASE_URL_ENV}={shlex.quote(self.url.render_as_string(hide_password=False))}"

    def shell_note(self) -> str:
        """A shell comment for a command without a prefix: the variable to set, the URL masked."""
        if self.shell_prefix():
            return ""
        return f"  # with {DATABASE_URL_ENV} set to the app database ({shown_url(self.url)})"

    def command(self, args: str) -> str:
        """`args` (a command line) as it works when pasted into any shell, with no secret in it."""
        prefix = self.shell_prefix()
        return (f"{prefix} {args}" if prefix else args) + self.shell_note()


def holds_secret(url: URL) -> bool:
    """A password, or a query parameter that may be one: such a URL is never printed whole."""
    return bool(url.password) or any(word in name.lower() for name in url.query for word in _SECRET_PARAMS)


def shown_url(url: URL) -> str:
    """The URL for a person: the password masked, and query parameters left out if one may be secret."""
    return display_url(url.set(query={}) if holds_secret(url) else url)


def locate_database(
    env: Mapping[str, str] | None = None, cwd: Path | None = None, setting: str | None = None
) -> DatabaseLocation:
    """The app database as the instance's resources find it: `setting` (AppDatabase.database_url),
    else DATABASE_URL_ENV, else oracle_mailchimp.db in DAGSTER_HOME, else in the working directory."""
    env = os.environ if env is None else env
    if setting:
        return DatabaseLocation(normalise_url(setting), "setting")
    if env.get(DATABASE_URL_ENV, "").strip():
        return DatabaseLocation(resolve_database_url(env), "env")
    home = env.get("DAGSTER_HOME", "").strip()
    path = default_sqlite_path(env, Path.cwd() if cwd is None else cwd)
    url = URL.create("sqlite", database=str(path))
    if home:
        return DatabaseLocation(url, "dagster_home", path.parent)
    return DatabaseLocation(url, "cwd")
