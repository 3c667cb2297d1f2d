"""Initial schema: tenants, encrypted secrets, sync state, member state, ledger, retry queue, audience events.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oracle_mailchimp_dagster.store.types import UTCDateTime, big_integer_pk

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECRET_NAMES = "'oracle_client_secret', 'oracle_password', 'mailchimp_api_key', 'mailchimp_oauth_token'"


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"))


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "tenant_secrets",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(f"name IN ({SECRET_NAMES})", name=op.f("ck_tenant_secrets_known_name")),
        _tenant_fk("tenant_secrets"),
        sa.PrimaryKeyConstraint("tenant_id", "name", name=op.f("pk_tenant_secrets")),
    )
    op.create_index(op.f("ix_tenant_secrets_key_id"), "tenant_secrets", ["key_id"])
    op.create_table(
        "sync_state",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("mark_timestamp", UTCDateTime(), nullable=True),
        sa.Column("mark_key", sa.BigInteger(), nullable=True),
        sa.Column("last_run_id", sa.String(length=64), nullable=True),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _tenant_fk("sync_state"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "member_state",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("customer_key", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("subscriber_hash", sa.String(length=32), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=True),
        sa.Column("known_status", sa.String(length=20), nullable=True),
        sa.Column("managed_tags", sa.JSON(), nullable=False),
        sa.Column("last_synced_at", UTCDateTime(), nullable=False),
        sa.Column("last_run_id", sa.String(length=64), nullable=True),
        sa.Column("customer_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("source_updated_at", UTCDateTime(), nullable=True),
        _tenant_fk("member_state"),
        sa.PrimaryKeyConstraint("tenant_id", "customer_key", name=op.f("pk_member_state")),
    )
    op.create_index(
        op.f("ix_member_state_tenant_id_subscriber_hash"), "member_state", ["tenant_id", "subscriber_hash"]
    )
    op.create_table(
        "sync_ledger",
        sa.Column("id", big_integer_pk(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("customer_key", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("attempt >= 1", name=op.f("ck_sync_ledger_attempt_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_ledger")),
    )
    op.create_index(op.f("ix_sync_ledger_tenant_id_run_id"), "sync_ledger", ["tenant_id", "run_id"])
    op.create_index(
        op.f("ix_sync_ledger_tenant_id_customer_key"), "sync_ledger", ["tenant_id", "customer_key"]
    )
    op.create_table(
        "retry_queue",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("customer_key", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead_letter", sa.Boolean(), nullable=False),
        sa.Column("first_failed_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("attempts >= 1", name=op.f("ck_retry_queue_attempts_positive")),
        _tenant_fk("retry_queue"),
        sa.PrimaryKeyConstraint("tenant_id", "customer_key", name=op.f("pk_retry_queue")),
    )
    op.create_index(
        op.f("ix_retry_queue_tenant_id_dead_letter_next_attempt_at"),
        "retry_queue",
        ["tenant_id", "dead_letter", "next_attempt_at"],
    )
    op.create_table(
        "audience_events",
        sa.Column("id", big_integer_pk(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("subscriber_hash", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "event IN ('unsubscribe', 'cleaned')", name=op.f("ck_audience_events_known_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audience_events")),
        sa.UniqueConstraint(
            "tenant_id",
            "subscriber_hash",
            "event",
            "occurred_at",
            name=op.f("uq_audience_events_tenant_id_subscriber_hash_event_occurred_at"),
        ),
    )


def downgrade() -> None:
    op.drop_table("audience_events")
    op.drop_table("retry_queue")
    op.drop_table("sync_ledger")
    op.drop_table("member_state")
    op.drop_table("sync_state")
    op.drop_table("tenant_secrets")
    op.drop_table("tenants")
