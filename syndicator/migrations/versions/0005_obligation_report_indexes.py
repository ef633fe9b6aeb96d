"""obligation report indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obligation_unit_deadline"))
        batch_op.create_index("ix_obligation_account_state", ["account_id", "state"], unique=False)
        batch_op.create_index(
            "ix_obligation_unit_report",
            ["unit_id", "deadline_at"],
            unique=False,
            postgresql_include=["item_id", "account_id", "state", "fulfilled_at", "created_at", "updated_at"],
        )


def downgrade() -> None:
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_obligation_unit_report",
            postgresql_include=["item_id", "account_id", "state", "fulfilled_at", "created_at", "updated_at"],
        )
        batch_op.drop_index("ix_obligation_account_state")
        batch_op.create_index(
            batch_op.f("ix_obligation_unit_deadline"), ["unit_id", "deadline_at"], unique=False
        )
