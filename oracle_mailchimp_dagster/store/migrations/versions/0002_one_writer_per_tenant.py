"""One writer per tenant: a lease per tenant, and a state version on sync_state for compare-and-set.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oracle_mailchimp_dagster.store.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("state_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("versioned_by", sa.String(length=64), nullable=True))
    op.create_table(
        "tenant_leases",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.Column("renewed_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_leases_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_leases")),
    )


def downgrade() -> None:
    op.drop_table("tenant_leases")
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("versioned_by")
        batch.drop_column("state_version")
