"""WeCom chat front end: reviewers' WeCom ids and per-front-end delivery of the chat outbox

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import syndicator.models.common

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wecom_user", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_user_wecom_user", ["wecom_user"])
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_created_at"), ["created_at"], unique=False)
    op.create_table(
        "chat_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("frontend", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", syndicator.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ref", sa.JSON(), nullable=False),
        sa.Column("created_at", syndicator.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", syndicator.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id", "frontend", name="uq_chat_delivery_frontend"),
    )
    with op.batch_alter_table("chat_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_delivery_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_delivery_state"))
    op.drop_table("chat_delivery")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_created_at"))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint("uq_user_wecom_user", type_="unique")
        batch_op.drop_column("wecom_user")
