"""Resources: the app database (tenants, secrets, state) and the two API clients, built per tenant.

Retries and timeouts are resource fields (as in dagster-fivetran), so they can be tuned per
deployment in run config or Definitions without code.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import lru_cache

import dagster as dg
from pydantic import Field

from oracle_mailchimp_dagster.defs.step import TenantStep, is_last_tenant_step
from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.fusion import FusionClient
from oracle_mailchimp_dagster.http import RetryPolicy, Timeouts
from oracle_mailchimp_dagster.mailchimp import MailchimpClient, MailchimpClientOptions
from oracle_mailchimp_dagster.mailchimp.settings import MAX_CONCURRENCY
from oracle_mailchimp_dagster.pipeline.ports import AudienceClient, CustomerSource
from oracle_mailchimp_dagster.secrets import KeyStore
from oracle_mailchimp_dagster.store.connection_slots import DatabaseConnectionGate
from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.errors import TenantNotFoundError
from oracle_mailchimp_dagster.store.lease_keeper import LEASES
from oracle_mailchimp_dagster.store.leases import LeaseStore
from oracle_mailchimp_dagster.store.location import normalise_url, resolve_database_url
from oracle_mailchimp_dagster.store.migrate import ensure_schema_current
from oracle_mailchimp_dagster.store.records import Lease
from oracle_mailchimp_dagster.store.sync_store import SyncStore
from oracle_mailchimp_dagster.tenants.client_settings import fusion_options_for
from oracle_mailchimp_dagster.tenants.connections import fusion_connection, mailchimp_connection
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry


@lru_cache(maxsize=8)
def _database(url: str) -> Database:
    """One engine per database URL and process (keyed by the resolved URL, so a changed
    ORACLE_MAILCHIMP_DATABASE_URL is honoured)."""
    return Database.from_url(normalise_url(url))


@lru_cache(maxsize=8)
def _connection_gate(db: Database, limit: int) -> DatabaseConnectionGate:
    """One gate per app database and limit in the process, so its slots share one renewing thread."""
    return DatabaseConnectionGate(db, limit)


class AppDatabase(dg.ConfigurableResource):
    """The connector's own database. Without `database_url`: ORACLE_MAILCHIMP_DATABASE_URL, else a
    SQLite file under DAGSTER_HOME.

    Each asset step opens its tenant here (`tenant_step`), holding the tenant's lease for its run: the
    lease is a row of this database and the step's first act, so its settings live beside the URL.
    """

    database_url: str | None = Field(
        default=None,
        description="sqlite:///PATH or postgresql://USER@HOST/DB; default: ORACLE_MAILCHIMP_DATABASE_URL, "
        "else oracle_mailchimp.db in DAGSTER_HOME",
    )
    lease_ttl_seconds: float = Field(
        default=60.0,
        ge=1.0,
        description="Seconds a run's lease on its tenant lasts unless renewed (renewed every third of it): "
        "how long a run that died keeps the next run of its tenant waiting",
    )
    lease_wait_seconds: float = Field(
        default=600.0,
        ge=0.0,
        description="Seconds a run waits while another run syncs its tenant before it fails naming that "
        "run (0: fail at once)",
    )

    def database(self) -> Database:
        url = self.database_url or resolve_database_url().render_as_string(hide_password=False)
        return _database(url)

    def sync_store(self) -> SyncStore:
        return SyncStore.open(self.database())

    def registry(self) -> TenantRegistry:
        return TenantRegistry.open(self.database())

    @contextmanager
    def tenant_step(self, context: dg.AssetExecutionContext) -> Iterator[TenantStep]:
        """The step's tenant (its partition) under the tenant's lease, held by the run (see `open_tenant`).

        The run keeps the lease for its later steps; it lets it go when this step fails (the steps
        after it are skipped) or ends the run's work on the tenant (`is_last_tenant_step`): after the
        commit, in a full run.
        """
        holder = context.run.run_id
        try:
            yield self.open_tenant(context.partition_key, holder=holder, log=context.log.info)
        except BaseException:
            LEASES.release(holder)
            raise
        if is_last_tenant_step(context.op_def.name, context.run.step_keys_to_execute):
            LEASES.release(holder)

    def open_tenant(
        self, tenant_id: str, *, holder: str, log: Callable[[str], None] | None = None
    ) -> TenantStep:
        """The tenant with its registry and store (the schema is checked once), its lease held by
        `holder` (the run id): kept from an earlier step of the run, else acquired, waiting up to
        `lease_wait_seconds` for another run (LeaseBusyError after that)."""
        db = self.database()
        ensure_schema_current(db)
        registry, store = TenantRegistry(db, KeyStore.from_env()), SyncStore(db)
        try:
            tenant = registry.get(tenant_id)
        except TenantNotFoundError:
            raise UserError(
                f"partition '{tenant_id}' is not a registered tenant: a partition is made for each tenant "
                f"of the registry; add one with `oracle-mailchimp tenants add {tenant_id} ...` (or "
                "`tenants import FILE.yaml`), not with the UI's 'Add a partition'"
            ) from None

        def waiting(lease: Lease) -> None:
            if log is not None:
                until = lease.expires_at.isoformat(timespec="seconds")
                log(f"tenant '{tenant_id}' is being synced by run {lease.holder} (lease until {until})")

        started = time.monotonic()
        LEASES.hold(
            LeaseStore(db),
            tenant_id,
            holder,
            ttl=timedelta(seconds=self.lease_ttl_seconds),
            wait=timedelta(seconds=self.lease_wait_seconds),
            on_wait=waiting,
        )
        return TenantStep(tenant, registry, store, lease_waited_s=time.monotonic() - started)


class SyncCheckThresholds(dg.ConfigurableResource):
    """Where the asset checks start warning (a deployment may tune them without code)."""

    max_invalid_rate: float = Field(
        default=0.10, ge=0.0, le=1.0, description="Share of records rejected as invalid before a warning"
    )
    max_failed_rate: float = Field(
        default=0.05, ge=0.0, le=1.0, description="Share of records Mailchimp failed before a warning"
    )


class _HttpClientResource(dg.ConfigurableResource):
    """What both client resources share: the timeouts of one attempt and the size of an answer."""

    connect_timeout_s: float = Field(default=10.0, gt=0, description="Seconds to connect")
    read_timeout_s: float = Field(default=120.0, gt=0, description="Seconds to wait for each read")
    deadline_s: float = Field(
        default=300.0, gt=0, description="Seconds one attempt may take in all (connect and every read)"
    )
    max_response_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="Largest answer read; a bigger one is refused"
    )

    def _timeouts(self) -> Timeouts:
        connect, read = self.connect_timeout_s, self.read_timeout_s
        return Timeouts(connect_s=connect, read_s=read, deadline_s=self.deadline_s)


class FusionResource(_HttpClientResource):
    """Builds the Oracle Fusion client of one tenant (pod URL, credentials and paging from the registry)."""

    max_attempts: int = Field(
        default=6, ge=1, description="Attempts per request (retrying 429, 5xx, timeouts)"
    )
    max_retry_seconds: float = Field(
        default=300.0, gt=0, description="Upper bound on the time one request spends in retries"
    )

    def client(self, tenant: TenantConfig, registry: TenantRegistry) -> CustomerSource:
        options = fusion_options_for(
            tenant.oracle,
            retry=RetryPolicy(max_attempts=self.max_attempts, max_total_s=self.max_retry_seconds),
            timeouts=self._timeouts(),
            max_response_bytes=self.max_response_bytes,
        )
        return FusionClient(fusion_connection(tenant, registry), options)


# A run's requests in flight per key: one of Mailchimp's 10 is always left to what runs beside a load
# (the audience-events sensor, CLI commands); runs of one key are queued one at a time.
RUN_CONCURRENCY = 9


class MailchimpResource(_HttpClientResource):
    """Builds the Mailchimp client of one tenant, under two limits per API key: `concurrency` in this
    process (its threads wait in memory), and `key_connection_limit` summed over every process and
    machine (slots in the app database). A run uses at most `concurrency`; runs sharing a key share
    `key_connection_limit` between them."""

    concurrency: int = Field(
        default=RUN_CONCURRENCY,
        ge=1,
        le=MAX_CONCURRENCY,
        description="Requests in flight per API key in one process (Mailchimp allows 10 in all); its "
        "threads wait in memory, and at most this many wait for a slot of key_connection_limit",
    )
    key_connection_limit: int = Field(
        default=MAX_CONCURRENCY,
        ge=1,
        le=MAX_CONCURRENCY,
        description="Requests in flight per API key summed over every run, process and machine sharing "
        "the app database: Mailchimp refuses a key's 11th simultaneous connection with 429, whichever "
        "tenant or run it comes from (each request holds a slot row of the app database)",
    )
    read_timeout_s: float = Field(default=130.0, gt=0, description="Seconds to wait for each read")
    max_attempts: int = Field(
        default=8, ge=1, description="Attempts per request (retrying 429, 5xx, timeouts)"
    )
    max_retry_seconds: float = Field(
        default=600.0, gt=0, description="Upper bound on the time one request spends in retries"
    )

    def client(self, tenant: TenantConfig, registry: TenantRegistry) -> AudienceClient:
        options = MailchimpClientOptions(
            concurrency=self.concurrency,
            retry=RetryPolicy(
                max_attempts=self.max_attempts,
                initial_backoff_s=1.0,
                max_backoff_s=60.0,
                max_total_s=self.max_retry_seconds,
            ),
            timeouts=self._timeouts(),
            max_response_bytes=self.max_response_bytes,
        )
        gate = _connection_gate(registry.db, self.key_connection_limit)
        return MailchimpClient(mailchimp_connection(tenant, registry), options, gate=gate)
