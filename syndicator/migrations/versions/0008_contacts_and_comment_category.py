"""unit contact phones; comment category (netizen corrections) and forwarding due date

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import syndicator.models.common

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_phones", sa.String(length=1000), nullable=True))
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("category", sa.String(length=20), nullable=False, server_default="message")
        )
        batch_op.add_column(
            sa.Column("forward_due_at", syndicator.models.common.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_column("forward_due_at")
        batch_op.drop_column("category")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("contact_phones")
