"""The assets on in-memory doubles of both APIs and a real SQLite app database: no HTTP at all.

Each test gets a registered tenant `acme`, an ephemeral Dagster instance with its partition, the two
doubles (shared objects the test asserts on) and `materialize`, which runs assets for the tenant.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.engine import URL

from oracle_mailchimp_dagster.defs.partitions import TENANTS
from oracle_mailchimp_dagster.secrets import KeyStore
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry
from tests.support import tenant_samples
from tests.support.doubles import AssetRuns, InMemoryAudience, InMemoryFusion, InMemoryValues
from tests.support.doubles.worlds import World, populate

TENANT = "acme"


@pytest.fixture
def database_url(tmp_path: Path) -> URL:
    """SQLite only (overrides the store layer's SQLite/PostgreSQL parameters): these tests are about
    the assets, and the store tests cover both backends."""
    return URL.create("sqlite", database=str(tmp_path / "oracle_mailchimp.db"))


@pytest.fixture(autouse=True)
def _no_crash_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORACLE_MAILCHIMP_CRASH_AT", raising=False)


@pytest.fixture
def tenant(registry: TenantRegistry) -> TenantConfig:
    """Tenant `acme` with the default mapping (FNAME, LNAME, ADDRESS, PHONE and two tag rules)."""
    config = tenant_samples.config(TENANT)
    registry.add(config, tenant_samples.secrets())
    return config


@pytest.fixture
def store(db: Database) -> SyncStore:
    return SyncStore(db)


@pytest.fixture(scope="session")
def instance() -> Iterator[dg.DagsterInstance]:
    """One in-memory instance for the session (a fresh one costs ~0.2 s); the assets read nothing
    from it, and each test reads only the results of its own runs."""
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(TENANTS, [TENANT])
        yield instance


@pytest.fixture
def fusion() -> InMemoryFusion:
    return InMemoryFusion()


@pytest.fixture
def audience(tenant: TenantConfig) -> InMemoryAudience:
    return InMemoryAudience(tenant.mailchimp.list_id)


@pytest.fixture
def values() -> InMemoryValues:
    return InMemoryValues()


@pytest.fixture
def materialize(
    db: Database,
    tenant: TenantConfig,
    instance: dg.DagsterInstance,
    fusion: InMemoryFusion,
    audience: InMemoryAudience,
    values: InMemoryValues,
) -> AssetRuns:
    """`materialize(*assets, selection=None, run_config=None)` for the tenant's partition."""
    url = db.url.render_as_string(hide_password=False)
    return AssetRuns(instance, tenant.id, database_url=url, fusion=fusion, audience=audience, values=values)


# ---- two worlds of 2,000 customers (holders of one address pages apart) for chunked runs ----------


@pytest.fixture
def chunked_world(
    materialize: AssetRuns, store: SyncStore, fusion: InMemoryFusion, audience: InMemoryAudience
) -> World:
    populate(fusion)
    return World(materialize, store, fusion, audience)


@pytest.fixture
def one_chunk_world(
    migrated_sqlite_file: Path, tmp_path: Path, key_store: KeyStore, tenant: TenantConfig
) -> Iterator[World]:
    path = tmp_path / "one-chunk.db"
    path.write_bytes(migrated_sqlite_file.read_bytes())
    db = Database.from_url(URL.create("sqlite", database=str(path)))
    TenantRegistry(db, key_store).add(tenant, tenant_samples.secrets())
    fusion, audience = InMemoryFusion(), InMemoryAudience(tenant.mailchimp.list_id)
    populate(fusion)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(TENANTS, [TENANT])
        url = db.url.render_as_string(hide_password=False)
        runs = AssetRuns(
            instance, TENANT, database_url=url, fusion=fusion, audience=audience, values=InMemoryValues()
        )
        yield World(runs, SyncStore(db), fusion, audience)
    db.dispose()
