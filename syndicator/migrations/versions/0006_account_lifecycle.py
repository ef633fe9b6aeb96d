"""account lifecycle (disabled / archived) and stalled publications

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('active', 'disabled')"


def upgrade() -> None:
    op.execute("UPDATE channel_account SET status = 'disabled' WHERE status = 'suspended'")
    op.execute("UPDATE channel_account SET status = 'archived' WHERE status = 'closed'")
    op.drop_index("uq_channel_account_active_platform", table_name="channel_account")
    op.create_index(
        "uq_channel_account_live_platform",
        "channel_account",
        ["unit_id", "platform"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stalled_passes", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_column("stalled_passes")
    op.drop_index("uq_channel_account_live_platform", table_name="channel_account")
    op.create_index(
        "uq_channel_account_active_platform",
        "channel_account",
        ["unit_id", "platform"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.execute("UPDATE channel_account SET status = 'suspended' WHERE status = 'disabled'")
    op.execute("UPDATE channel_account SET status = 'closed' WHERE status = 'archived'")
