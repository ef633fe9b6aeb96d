"""publication idempotency key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint("uq_publication_idempotency_key", ["idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_constraint("uq_publication_idempotency_key", type_="unique")
        batch_op.drop_column("idempotency_key")
