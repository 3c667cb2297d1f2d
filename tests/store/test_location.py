"""Where the database lives and which URLs are accepted (pure: no database needed)."""

from pathlib import Path

import pytest

from oracle_mailchimp_dagster.store import DatabaseConfigError, resolve_database_url
from oracle_mailchimp_dagster.store.location import DATABASE_URL_ENV, display_url, normalise_url


def test_default_is_a_sqlite_file_in_dagster_home(tmp_path: Path) -> None:
    url = resolve_database_url({"DAGSTER_HOME": str(tmp_path / "home")}, cwd=Path("/elsewhere"))
    assert url.get_backend_name() == "sqlite"
    assert url.database == str(tmp_path / "home" / "oracle_mailchimp.db")


def test_without_dagster_home_the_file_is_in_the_working_directory(tmp_path: Path) -> None:
    url = resolve_database_url({}, cwd=tmp_path)
    assert url.database == str(tmp_path / "oracle_mailchimp.db")


@pytest.mark.parametrize(
    "raw",
    [
        "postgresql://u:p@db.example.com:5432/sync",
        "postgres://u:p@db.example.com:5432/sync",
        "postgresql+psycopg2://u:p@db.example.com:5432/sync",
    ],
)
def test_postgresql_urls_are_pinned_to_psycopg2(raw: str) -> None:
    url = resolve_database_url({DATABASE_URL_ENV: raw})
    assert url.drivername == "postgresql+psycopg2"
    assert (url.host, url.port, url.database, url.username) == ("db.example.com", 5432, "sync", "u")


def test_the_environment_wins_over_the_default(tmp_path: Path) -> None:
    url = resolve_database_url({DATABASE_URL_ENV: f"sqlite:///{tmp_path}/x.db", "DAGSTER_HOME": "/h"})
    assert url.database == f"{tmp_path}/x.db"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("mysql://u@h/db", "database 'mysql' is not supported; use SQLite or PostgreSQL"),
        ("postgresql+psycopg://u@h/db", "PostgreSQL driver 'psycopg' is not supported"),
        ("sqlite://", "an in-memory SQLite database would forget everything"),
        ("sqlite:///:memory:", "an in-memory SQLite database would forget everything"),
        ("not a url at all", f"{DATABASE_URL_ENV} is not a database URL"),
    ],
)
def test_unsupported_urls_are_refused_clearly(raw: str, message: str) -> None:
    with pytest.raises(DatabaseConfigError) as caught:
        normalise_url(raw)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unparsable_url_is_not_echoed_since_it_may_hold_a_password() -> None:
    with pytest.raises(DatabaseConfigError) as caught:
        normalise_url("::hunter2::")
    assert "hunter2" not in str(caught.value)


def test_display_url_masks_the_password() -> None:
    shown = display_url(normalise_url("postgresql://sync:s3cr3t-pw@db/sync"))
    assert "s3cr3t-pw" not in shown
    assert shown.startswith("postgresql+psycopg2://sync:***@db/sync")
