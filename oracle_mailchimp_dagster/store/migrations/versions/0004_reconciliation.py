"""Reconciliation: the merge fields last sent to each member, so drift made in Mailchimp can be found.

State stored before this revision has none (NULL): its fields are checked once the member is next
written.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member_state") as batch:
        batch.add_column(sa.Column("merge_fields", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member_state") as batch:
        batch.drop_column("merge_fields")
