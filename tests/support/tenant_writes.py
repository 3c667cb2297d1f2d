"""What the tenant commands wrote: every row of the app database and the key file, to prove a refused
command wrote nothing, and a way to change a stored setting behind the registry's back (as someone
with write access to the database would)."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from oracle_mailchimp_dagster.store import Database
from oracle_mailchimp_dagster.store.schema import tenants


@dataclass(frozen=True)
class Written:
    """Rows of every table (sorted, as text) and the key file's bytes (None: no key file)."""

    rows: tuple[str, ...]
    key_file: bytes | None


def written(db: Database, key_file: Path) -> Written:
    rows: list[str] = []
    with db.read() as conn:
        for table in sorted(sa.inspect(conn).get_table_names()):
            found = conn.execute(sa.text(f"SELECT * FROM {table}"))
            rows += sorted(f"{table}: {tuple(row)!r}" for row in found)
    return Written(tuple(rows), key_file.read_bytes() if key_file.exists() else None)


def tamper_setting(db: Database, tenant_id: str, section: str, field: str, value: Any) -> None:
    """Set one stored setting straight in the database, skipping every check of the registry."""
    with db.write() as conn:
        stored = conn.execute(sa.select(tenants.c.config).where(tenants.c.id == tenant_id)).scalar_one()
        changed = {**stored, section: {**stored[section], field: value}}
        conn.execute(sa.update(tenants).where(tenants.c.id == tenant_id).values(config=changed))
