"""`oracle-mailchimp db`: apply the schema migrations and show where the database stands."""

import json
import os
import stat
from pathlib import Path

import click

from oracle_mailchimp_dagster.store import LOCATION_HELP, Database, schema_status, upgrade_schema
from oracle_mailchimp_dagster.store.errors import SchemaNotCurrentError
from oracle_mailchimp_dagster.store.migrate import describe_problem


@click.group(epilog=LOCATION_HELP)
def db() -> None:
    """The app database: tenants, encrypted secrets, sync state and the audit ledger."""


# SQLite keeps a database's recent writes beside it until a checkpoint.
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def tighten(path: Path, private_mode: int, what: str) -> None:
    """chmod `path` to `private_mode` when group or others may use it, saying so in one line."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        path.chmod(private_mode)
        click.echo(f"{what} {path} was open to other users (mode {mode:04o}): now {private_mode:04o}")


def tighten_home_and_database(database: Database) -> None:
    """DAGSTER_HOME (run history, logs, the IO manager's pickles of customer data) to 0700, and the
    SQLite app database (encrypted credentials, member state) with its companions to 0600."""
    home = os.environ.get("DAGSTER_HOME", "").strip()
    if home:
        tighten(Path(home), 0o700, "DAGSTER_HOME")
    if database.dialect == "sqlite" and database.url.database:
        for suffix in SQLITE_COMPANIONS:
            tighten(Path(database.url.database + suffix), 0o600, "app database file")


@db.command()
def upgrade() -> None:
    """Apply every pending schema migration, and prepare the Dagster instance of DAGSTER_HOME (safe to
    run again; run it once before starting several syncs, the daemon or the UI on a new home). A
    DAGSTER_HOME or SQLite app database open to other users is made private (0700, 0600)."""
    database = Database.from_url()
    tighten_home_and_database(database)
    try:
        before = schema_status(database)
        after = upgrade_schema(database)
    finally:
        database.dispose()
    if before.current == after.current:
        click.echo(f"{database.display_url}: schema already at {after.current}")
    else:
        click.echo(f"{database.display_url}: schema upgraded from {before.current_label} to {after.current}")
    if not os.environ.get("DAGSTER_HOME", "").strip():
        click.echo("Dagster instance: DAGSTER_HOME is not set, so there is no instance to prepare")
        return
    from oracle_mailchimp_dagster.cli.sync import dagster_home  # Dagster loads only when needed
    from oracle_mailchimp_dagster.defs.instance import upgrade_instance

    home = dagster_home(os.environ)
    home.mkdir(parents=True, exist_ok=True)
    upgrade_instance(home, click.echo)


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def status(as_json: bool) -> None:
    """Show the database and its schema version; exits non-zero when `db upgrade` is needed."""
    database = Database.from_url()
    try:
        state = schema_status(database)
    finally:
        database.dispose()
    if as_json:
        payload = {
            "database": database.display_url,
            "dialect": database.dialect,
            "schema": state.current,
            "required": state.head,
            "state": state.state.value,
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(f"database: {database.display_url}")
        click.echo(f"schema:   {state.current_label} (this version needs {state.head})")
    problem = describe_problem(state)
    if problem is not None:
        raise SchemaNotCurrentError(problem)
    if not as_json:
        click.echo("up to date")
