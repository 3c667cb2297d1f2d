"""Schema versions: apply the shipped Alembic migrations and check the database is at the one we need."""

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.errors import SchemaNotCurrentError

# Our own version table, so a database shared with Dagster's storage (which has `alembic_version`) is safe.
VERSION_TABLE = "oracle_mailchimp_schema_version"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
UPGRADE_COMMAND = "oracle-mailchimp db upgrade"


class SchemaState(StrEnum):
    CURRENT = "current"
    BEHIND = "behind"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    state: SchemaState

    @property
    def current_label(self) -> str:
        return self.current or "empty (no schema)"


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_alembic_config())


def head_revision() -> str:
    """The schema version this code needs."""
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations shipped")
    return head


def current_revision(db: Database) -> str | None:
    """The schema version the database is at, or None for an empty database."""
    with db.read() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def classify(current: str | None, head: str) -> SchemaState:
    """Pure: where `current` stands relative to `head` in the shipped history."""
    if current == head:
        return SchemaState.CURRENT
    known = {script.revision for script in _scripts().walk_revisions()}
    if current is None or current in known:
        return SchemaState.BEHIND
    return SchemaState.UNKNOWN


def schema_status(db: Database) -> SchemaStatus:
    head = head_revision()
    current = current_revision(db)
    return SchemaStatus(current=current, head=head, state=classify(current, head))


def describe_problem(status: SchemaStatus) -> str | None:
    """One line saying what is wrong and what to run, or None when the schema is current."""
    if status.state is SchemaState.BEHIND:
        return (
            f"database schema is at {status.current_label}, this version needs {status.head}: "
            f"run `{UPGRADE_COMMAND}`"
        )
    if status.state is SchemaState.UNKNOWN:
        return (
            f"database schema is at {status.current}, which this version does not know (it needs "
            f"{status.head}): a newer oracle-mailchimp-dagster migrated it; upgrade the package"
        )
    return None


def ensure_schema_current(db: Database) -> None:
    """Refuse to work on a database whose schema is not the one this code was written for."""
    problem = describe_problem(schema_status(db))
    if problem is not None:
        raise SchemaNotCurrentError(problem)


def upgrade_schema(db: Database, revision: str = "head") -> SchemaStatus:
    """Apply every pending migration in one transaction; returns the status afterwards."""
    status = schema_status(db)
    if status.state is SchemaState.UNKNOWN:
        raise SchemaNotCurrentError(describe_problem(status) or "")
    with db.write() as conn:
        command.upgrade(_alembic_config(conn), revision)
    return schema_status(db)
