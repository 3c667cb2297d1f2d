"""Open (and on first use create) the Dagster instance of DAGSTER_HOME, one process at a time.

Dagster creates its SQLite storage and stamps its migrations the first time an instance is opened;
two processes doing that at once (three `oracle-mailchimp sync` on a fresh home) race inside alembic
("Online migration expected to match one row"). A file lock in DAGSTER_HOME serialises the opening,
which costs nothing once the storage exists.
"""

import contextlib
import io
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from filelock import FileLock

LOCK_NAME = ".oracle_mailchimp_instance.lock"
LOCK_TIMEOUT_S = 120.0


def instance_lock(home: Path) -> FileLock:
    """The lock that serialises creating and migrating the instance in `home`."""
    return FileLock(home / LOCK_NAME, timeout=LOCK_TIMEOUT_S, mode=0o600)


def open_instance(home: Path) -> dg.DagsterInstance:
    """`DagsterInstance.get()` for DAGSTER_HOME = `home`, under the lock."""
    with instance_lock(home):
        return dg.DagsterInstance.get()


def upgrade_instance(home: Path, say: Callable[[str], None]) -> None:
    """Create the instance's storage if needed and apply Dagster's own migrations (safe to repeat)."""
    with instance_lock(home):
        instance = dg.DagsterInstance.get()
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # Dagster prints each storage it migrates
                instance.upgrade(print_fn=lambda _line: None)
        finally:
            instance.dispose()
    say(f"Dagster instance in {home}: storage ready")
