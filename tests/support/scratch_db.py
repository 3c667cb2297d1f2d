"""Throwaway PostgreSQL databases for tests and benchmarks: created uniquely named, always dropped."""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL

from oracle_mailchimp_dagster.store.errors import DatabaseUnavailableError
from oracle_mailchimp_dagster.store.location import display_url, normalise_url

SCRATCH_ADMIN_URL_ENV = "ORACLE_MAILCHIMP_TEST_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> URL:
    """The server to create scratch databases on (any database there; `postgres` by default)."""
    return normalise_url(os.environ.get(SCRATCH_ADMIN_URL_ENV, DEFAULT_ADMIN_URL))


@contextmanager
def scratch_postgres_database(prefix: str = "omd_test", admin: URL | None = None) -> Iterator[URL]:
    """Create `<prefix>_<pid>_<random>`, yield its URL, then drop it (even if the body fails)."""
    admin = admin_url() if admin is None else admin
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "connection failed"
        raise DatabaseUnavailableError(
            f"cannot create a scratch database on {display_url(admin)}: {reason}"
        ) from None
    try:
        yield admin.set(database=name)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()
