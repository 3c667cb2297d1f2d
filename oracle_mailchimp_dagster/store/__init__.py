"""The app database: tenants, encrypted secrets, sync state and the audit ledger (SQLAlchemy Core).

Entry points: `Database.from_url()` opens the configured database, `upgrade_schema` migrates it,
`SyncStore.open()` gives the Dagster layer its reads and the atomic `commit_run`.
"""

from oracle_mailchimp_dagster.store.engine import Database
from oracle_mailchimp_dagster.store.errors import (
    DatabaseConfigError,
    DatabaseUnavailableError,
    LeaseBusyError,
    SchemaNotCurrentError,
    StaleStateError,
    TenantExistsError,
    TenantNotFoundError,
)
from oracle_mailchimp_dagster.store.leases import LeaseStore
from oracle_mailchimp_dagster.store.location import DATABASE_URL_ENV, LOCATION_HELP, resolve_database_url
from oracle_mailchimp_dagster.store.migrate import ensure_schema_current, schema_status, upgrade_schema
from oracle_mailchimp_dagster.store.records import (
    AudienceEvent,
    AudienceEventKind,
    CommitSummary,
    HighWaterMark,
    Lease,
    LedgerEntry,
    LedgerRecord,
    RetryEntry,
    RunCommit,
    SecretName,
    SyncState,
)
from oracle_mailchimp_dagster.store.sync_store import SyncStore

__all__ = [
    "DATABASE_URL_ENV",
    "LOCATION_HELP",
    "AudienceEvent",
    "AudienceEventKind",
    "CommitSummary",
    "Database",
    "DatabaseConfigError",
    "DatabaseUnavailableError",
    "HighWaterMark",
    "Lease",
    "LeaseBusyError",
    "LeaseStore",
    "LedgerEntry",
    "LedgerRecord",
    "RetryEntry",
    "RunCommit",
    "SchemaNotCurrentError",
    "SecretName",
    "StaleStateError",
    "SyncState",
    "SyncStore",
    "TenantExistsError",
    "TenantNotFoundError",
    "ensure_schema_current",
    "resolve_database_url",
    "schema_status",
    "upgrade_schema",
]
