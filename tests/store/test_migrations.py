"""Schema versions: migrating an empty database, matching the model, refusing a stale or foreign schema."""

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from oracle_mailchimp_dagster.store import Database, SchemaNotCurrentError, SyncStore, upgrade_schema
from oracle_mailchimp_dagster.store.leases import LeaseStore
from oracle_mailchimp_dagster.store.marks import MarkStore
from oracle_mailchimp_dagster.store.migrate import (
    VERSION_TABLE,
    SchemaState,
    _alembic_config,
    ensure_schema_current,
    head_revision,
    schema_status,
)
from oracle_mailchimp_dagster.store.schema import ALL_TABLES, metadata, sync_state, tenant_secrets
from oracle_mailchimp_dagster.store.tenant_rows import TenantRow, insert_tenant


def test_an_empty_database_is_behind_and_says_what_to_run(empty_db: Database) -> None:
    status = schema_status(empty_db)
    assert (status.current, status.state) == (None, SchemaState.BEHIND)
    with pytest.raises(SchemaNotCurrentError) as caught:
        ensure_schema_current(empty_db)
    assert str(caught.value) == (
        f"database schema is at empty (no schema), this version needs {head_revision()}: "
        "run `oracle-mailchimp db upgrade`"
    )


def test_the_store_refuses_to_open_a_database_that_is_behind(empty_db: Database) -> None:
    with pytest.raises(SchemaNotCurrentError, match="run `oracle-mailchimp db upgrade`"):
        SyncStore.open(empty_db)


def test_upgrade_from_empty_creates_every_table(empty_db: Database) -> None:
    status = upgrade_schema(empty_db)
    assert (status.current, status.state) == (head_revision(), SchemaState.CURRENT)
    with empty_db.read() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert tables == {table.name for table in ALL_TABLES} | {VERSION_TABLE}
    ensure_schema_current(empty_db)


def test_migrated_schema_matches_the_model_exactly(db: Database) -> None:
    """Autogenerate finds nothing to change: the migrations and schema.py describe the same database."""
    with db.read() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(context, metadata) == []


def test_upgrade_is_idempotent(db: Database) -> None:
    again = upgrade_schema(db)
    assert again.state is SchemaState.CURRENT


def test_a_schema_from_a_newer_version_is_refused_with_advice(db: Database) -> None:
    with db.write() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    status = schema_status(db)
    assert status.state is SchemaState.UNKNOWN
    with pytest.raises(SchemaNotCurrentError) as caught:
        ensure_schema_current(db)
    assert "database schema is at 9999, which this version does not know" in str(caught.value)
    assert "upgrade the package" in str(caught.value)
    with pytest.raises(SchemaNotCurrentError):
        upgrade_schema(db)


def _names(items: Any) -> set[str]:
    return {str(item["name"]) for item in items if item.get("name")}


def test_migrated_constraint_and_index_names_are_the_models(db: Database) -> None:
    """Names matter to later migrations (they drop and alter constraints by name)."""
    with db.read() as conn:
        inspector = sa.inspect(conn)
        for table in ALL_TABLES:
            expected_checks = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
            expected_uniques = {c.name for c in table.constraints if isinstance(c, sa.UniqueConstraint)}
            expected_fks = {c.name for c in table.constraints if isinstance(c, sa.ForeignKeyConstraint)}
            assert _names(inspector.get_check_constraints(table.name)) == expected_checks, table.name
            assert _names(inspector.get_unique_constraints(table.name)) == expected_uniques, table.name
            assert _names(inspector.get_foreign_keys(table.name)) == expected_fks, table.name
            indexes = [i for i in inspector.get_indexes(table.name) if not i.get("duplicates_constraint")]
            assert _names(indexes) == {i.name for i in table.indexes}, table.name


def test_0002_adds_the_lease_table_and_starts_existing_tenants_at_version_0(empty_db: Database) -> None:
    upgrade_schema(empty_db, "0001")
    now = datetime.now(UTC)
    with empty_db.write() as conn:
        insert_tenant(conn, TenantRow("acme", "Acme", {}, True, now, now))
        conn.execute(sa.insert(sync_state).values(tenant_id="acme", updated_at=now))  # 0001's columns only
    status = upgrade_schema(empty_db, "0002")
    assert status.current == "0002"
    state = MarkStore(empty_db).state("acme")
    assert state is not None and (state.state_version, state.versioned_by) == (0, None)
    assert LeaseStore(empty_db).current("acme") is None

    with empty_db.write() as conn:
        command.downgrade(_alembic_config(conn), "0001")
    with empty_db.read() as conn:
        inspector = sa.inspect(conn)
        assert "tenant_leases" not in inspector.get_table_names()
        assert "state_version" not in {c["name"] for c in inspector.get_columns("sync_state")}
    assert upgrade_schema(empty_db).state is SchemaState.CURRENT


def test_0003_adds_the_operations_tables_and_the_webhook_secret_name(empty_db: Database) -> None:
    upgrade_schema(empty_db, "0002")
    now = datetime.now(UTC)
    with empty_db.write() as conn:
        insert_tenant(conn, TenantRow("acme", "Acme", {}, True, now, now))
    secret = {"tenant_id": "acme", "ciphertext": "x", "key_id": "k", "updated_at": now}
    with pytest.raises(sa.exc.IntegrityError), empty_db.write() as conn:
        conn.execute(sa.insert(tenant_secrets).values(name="alert_webhook_url", **secret))
    assert upgrade_schema(empty_db).state is SchemaState.CURRENT
    with empty_db.write() as conn:
        conn.execute(sa.insert(tenant_secrets).values(name="alert_webhook_url", **secret))
    with pytest.raises(sa.exc.IntegrityError), empty_db.write() as conn:
        conn.execute(sa.insert(tenant_secrets).values(name="not_a_secret", **secret))
    with empty_db.read() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"connection_slots", "alert_outbox", "audience_event_marks"} <= tables

    with empty_db.write() as conn:
        command.downgrade(_alembic_config(conn), "0002")
    with empty_db.read() as conn:
        assert "alert_outbox" not in sa.inspect(conn).get_table_names()
        names = conn.execute(sa.select(tenant_secrets.c.name)).scalars().all()
    assert names == []
    assert upgrade_schema(empty_db).state is SchemaState.CURRENT
