"""Every table of the app database, as SQLAlchemy Core (one MetaData; migrations live in `migrations/`).

The ledger and audience events carry no foreign key to `tenants`: they are the audit trail of record
and outlive a removed tenant. Everything else belongs to a tenant and goes with it.
"""

import sqlalchemy as sa

from oracle_mailchimp_dagster.store.types import UTCDateTime, big_integer_pk

SECRET_NAMES = (
    "oracle_client_secret",
    "oracle_password",
    "mailchimp_api_key",
    "mailchimp_oauth_token",
    # A Slack-style incoming webhook URL carries its own token, so it is kept like a credential.
    "alert_webhook_url",
)
AUDIENCE_EVENT_KINDS = ("unsubscribe", "cleaned")

TENANT_ID_LENGTH = 63
CUSTOMER_KEY_LENGTH = 100
RUN_ID_LENGTH = 64
EMAIL_LENGTH = 320
LEASE_HOLDER_LENGTH = 200

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _in_list(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def _tenant_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tenants.id")


tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(TENANT_ID_LENGTH), primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("config", sa.JSON(), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

tenant_secrets = sa.Table(
    "tenant_secrets",
    metadata,
    sa.Column("tenant_id", sa.String(TENANT_ID_LENGTH), _tenant_fk(), primary_key=True),
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("ciphertext", sa.Text(), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False, index=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint(_in_list("name", SECRET_NAMES), name="known_name"),
)

sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("tenant_id", sa.String(TENANT_ID_LENGTH), _tenant_fk(), primary_key=True),
    sa.Column("mark_timestamp", UTCDateTime(), nullable=True),
    sa.Column("mark_key", sa.BigInteger(), nullable=True),
    sa.Column("last_run_id", sa.String(RUN_ID_LENGTH), nullable=True),
    sa.Column("last_run_at", UTCDateTime(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # Bumped by every commit that writes member state or moves the mark, and by a reset: a run commits
    # only if it is still the version its plan was made against (compare-and-set, see `store.runs`).
    sa.Column("state_version", sa.Integer(), nullable=False, server_default="0"),
    # The run whose commit made `state_version` (None: a reset, or no commit yet).
    sa.Column("versioned_by", sa.String(RUN_ID_LENGTH), nullable=True),
)

# One writer per tenant: the run holding the row's unexpired lease (see `store.leases`).
tenant_leases = sa.Table(
    "tenant_leases",
    metadata,
    sa.Column("tenant_id", sa.String(TENANT_ID_LENGTH), _tenant_fk(), primary_key=True),
    sa.Column("holder", sa.String(LEASE_HOLDER_LENGTH), nullable=False),
    sa.Column("token", sa.String(64), nullable=False),
    sa.Column("acquired_at", UTCDateTime(), nullable=False),
    sa.Column("renewed_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)

member_state = sa.Table(
    "member_state",
    metadata,
    sa.Column("tenant_id", sa.String(TENANT_ID_LENGTH), _tenant_fk(), primary_key=True),
    sa.Column("customer_key", sa.String(CUSTOMER_KEY_LENGTH), primary_key=True),
    sa.Column("email", sa.String(EMAIL_LENGTH), nullable=False),
    sa.Column("subscriber_hash", sa.String(32), nullable=False),
    # None for a customer that shares its address with a newer one (it sent no payload of its own).
    sa.Column("payload_hash", sa.String(64), nullable=True),
    sa.Column("known_status", sa.String(20), nullable=True),
    sa.Column("managed_tags", sa.JSON(), nullable=False),
    sa.Column("last_synced_at", UTCDateTime(), nullable=False),
    sa.Column("last_run_id", sa.String(RUN_ID_LENGTH), nullable=True),
    # False once Oracle inactivated the customer and the tenant's inactive action was applied.
    sa.Column("customer_active", sa.Boolean(), server_default=sa.true(), nullable=False),
    # The customer's Oracle LastUpdateDate when last synced: decides whose data a shared address shows.
    sa.Column("source_updated_at", UTCDateTime(), nullable=True),
    # The merge fields last sent: what a reconciliation expects the member to hold (migration 0004).
    sa.Column("merge_fields", sa.JSON(), nullable=True),
    sa.Index(None, "tenant_id", "subscriber_hash"),
)

sync_ledger = sa.Table(
    "sync_ledger",
    metadata,
    sa.Column("id", big_integer_pk(), primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(TENANT_ID_LENGTH), nullable=False),
    sa.Column("run_id", sa.String(RUN_ID_LENGTH), nullable=False),
    sa.Column("customer_key", sa.String(CUSTOMER_KEY_LENGTH), nullable=False),
    sa.Column("email", sa.String(EMAIL_LENGTH), nullable=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("http_status", sa.Integer(), nullable=True),
    sa.Column("title", sa.String(200), nullable=True),
    sa.Column("detail", sa.Text(), nullable=True),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint("attempt >= 1", name="attempt_positive"),
    sa.Index(None, "tenant_id", "run_id"),
    sa.Index(None, "tenant_id", "customer_key"),
)

retry_queue = sa.Table(
    "retry_queue",
    metadata,
    sa.Column("tenant_id", sa.String(TENANT_ID_LENGTH), _tenant_fk(), primary_key=True),
    sa.Column("customer_key", sa.String(CUSTOMER_KEY_LENGTH), primary_key=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("dead_letter", sa.Boolean(), nullable=False),
    sa.Column("first_failed_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint("attempts >= 1", name="attempts_positive"),
    sa.Index(None, "tenant_id", "dead_letter", "next_attempt_at"),
)

audience_events = sa.Table(
    "audience_events",
    metadata,
    sa.Column("id", big_integer_pk(), primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(TENANT_ID_LENGTH), nullable=False),
    sa.Column("email", sa.String(EMAIL_LENGTH), nullable=False),
    sa.Column("subscriber_hash", sa.String(32), nullable=False),
    sa.Column("event", sa.String(20), nullable=False),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Column("source", sa.String(50), nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint(_in_list("event", AUDIENCE_EVENT_KINDS), name="known_event"),
    sa.UniqueConstraint("tenant_id", "subscriber_hash", "event", "occurred_at"),
)

# A per-API-key connection semaphore across processes and machines: a request holds one of the key's
# slots (0..limit-1) while in flight; a slot whose holder died frees itself when `expires_at` passes.
# No tenant key: tenants share Mailchimp keys. The key is named by its fingerprint, never the key.
connection_slots = sa.Table(
    "connection_slots",
    metadata,
    sa.Column("key_fingerprint", sa.String(64), primary_key=True),
    sa.Column("slot", sa.Integer(), primary_key=True),
    sa.Column("holder", sa.String(LEASE_HOLDER_LENGTH), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)

# Alerts waiting to be delivered, or delivered: one row per event (`event_key` makes producing it
# idempotent), retried with backoff until the webhook answers 2xx. No foreign key: an alert may be
# about a tenant that is being removed.
alert_outbox = sa.Table(
    "alert_outbox",
    metadata,
    sa.Column("id", big_integer_pk(), primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(TENANT_ID_LENGTH), nullable=False),
    sa.Column("event_key", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("delivered_at", UTCDateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("claimed_by", sa.String(LEASE_HOLDER_LENGTH), nullable=True),
    sa.Column("claimed_until", UTCDateTime(), nullable=True),
    sa.Index(None, "delivered_at", "next_attempt_at"),
)

# Per tenant, the `last_changed` of the newest Mailchimp audience change already read by the
# audience-events asset (so each run reads only what is newer).
audience_event_marks = sa.Table(
    "audience_event_marks",
    metadata,
    sa.Column("tenant_id", sa.String(TENANT_ID_LENGTH), _tenant_fk(), primary_key=True),
    sa.Column("since", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

ALL_TABLES = (
    tenants,
    tenant_secrets,
    sync_state,
    tenant_leases,
    member_state,
    sync_ledger,
    retry_queue,
    audience_events,
    connection_slots,
    alert_outbox,
    audience_event_marks,
)
