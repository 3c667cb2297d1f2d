"""Resources: the app database (tenants, secrets, state) and the two API clients, built per tenant.

Retries and timeouts are resource fields (as in dagster-fivetran), so they can be tuned per
deployment in run config or Definitions without code.
"""

from datetime import timedelta
from functools import lru_cache

import dagster as dg

from oracle_mailchimp_dagster.fusion import FusionClient, FusionClientOptions
from oracle_mailchimp_dagster.http import RetryPolicy, Timeouts
from oracle_mailchimp_dagster.mailchimp import MailchimpClient, MailchimpClientOptions
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.location import normalise_url, resolve_database_url
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants.connections import fusion_connection, mailchimp_connection
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry


@lru_cache(maxsize=8)
def _database(url: str) -> Database:
    """One engine per database URL and process (keyed by the resolved URL, so a changed
    ORACLE_MAILCHIMP_DATABASE_URL is honoured)."""
    return Database.from_url(normalise_url(url))


class AppDatabase(dg.ConfigurableResource):
    """The connector's own database. Without `database_url`: ORACLE_MAILCHIMP_DATABASE_URL, else a
    SQLite file under DAGSTER_HOME."""

    database_url: str | None = None

    def database(self) -> Database:
        url = self.database_url or resolve_database_url().render_as_string(hide_password=False)
        return _database(url)

    def sync_store(self) -> SyncStore:
        return SyncStore.open(self.database())

    def registry(self) -> TenantRegistry:
        return TenantRegistry.open(self.database())


class FusionResource(dg.ConfigurableResource):
    """Builds the Oracle Fusion client of one tenant (pod URL, credentials and paging from the registry)."""

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 120.0
    max_attempts: int = 6
    max_retry_seconds: float = 300.0

    def client(self, tenant: TenantConfig, registry: TenantRegistry) -> FusionClient:
        options = FusionClientOptions(
            page_size=tenant.oracle.page_size,
            overlap=timedelta(minutes=tenant.oracle.overlap_minutes),
            retry=RetryPolicy(max_attempts=self.max_attempts, max_total_s=self.max_retry_seconds),
            timeouts=Timeouts(connect_s=self.connect_timeout_s, read_s=self.read_timeout_s),
        )
        return FusionClient(fusion_connection(tenant, registry), options)


class MailchimpResource(dg.ConfigurableResource):
    """Builds the Mailchimp client of one tenant; `concurrency` is shared by every client of a key."""

    concurrency: int = 8
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 130.0
    max_attempts: int = 8
    max_retry_seconds: float = 600.0

    def client(self, tenant: TenantConfig, registry: TenantRegistry) -> MailchimpClient:
        options = MailchimpClientOptions(
            concurrency=self.concurrency,
            retry=RetryPolicy(
                max_attempts=self.max_attempts,
                initial_backoff_s=1.0,
                max_backoff_s=60.0,
                max_total_s=self.max_retry_seconds,
            ),
            timeouts=Timeouts(connect_s=self.connect_timeout_s, read_s=self.read_timeout_s),
        )
        return MailchimpClient(mailchimp_connection(tenant, registry), options)
