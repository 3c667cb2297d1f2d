"""Operations at scale: a cross-process Mailchimp connection semaphore, an alert outbox, the
audience-events read mark, and the alert webhook URL as a stored credential.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oracle_mailchimp_dagster.store.types import UTCDateTime, big_integer_pk

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_NAMES = "'oracle_client_secret', 'oracle_password', 'mailchimp_api_key', 'mailchimp_oauth_token'"
NEW_NAMES = f"{OLD_NAMES}, 'alert_webhook_url'"


def _secret_names(names: str) -> None:
    with op.batch_alter_table("tenant_secrets") as batch:
        batch.drop_constraint(op.f("ck_tenant_secrets_known_name"), type_="check")
        batch.create_check_constraint(op.f("ck_tenant_secrets_known_name"), sa.text(f"name IN ({names})"))


def upgrade() -> None:
    _secret_names(NEW_NAMES)
    op.create_table(
        "connection_slots",
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_fingerprint", "slot", name=op.f("pk_connection_slots")),
    )
    op.create_table(
        "alert_outbox",
        sa.Column("id", big_integer_pk(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_outbox")),
        sa.UniqueConstraint("event_key", name=op.f("uq_alert_outbox_event_key")),
    )
    op.create_index(
        op.f("ix_alert_outbox_delivered_at_next_attempt_at"),
        "alert_outbox",
        ["delivered_at", "next_attempt_at"],
    )
    op.create_table(
        "audience_event_marks",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audience_event_marks_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_audience_event_marks")),
    )


def downgrade() -> None:
    op.drop_table("audience_event_marks")
    op.drop_index(op.f("ix_alert_outbox_delivered_at_next_attempt_at"), table_name="alert_outbox")
    op.drop_table("alert_outbox")
    op.drop_table("connection_slots")
    op.execute("DELETE FROM tenant_secrets WHERE name = 'alert_webhook_url'")
    _secret_names(OLD_NAMES)
