"""dashboard sessions, generated secrets, silence warnings

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import syndicator.models.common

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_secret",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", syndicator.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "dashboard_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("access", sa.String(length=300), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("created_at", syndicator.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", syndicator.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", syndicator.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["api_token.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dashboard_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_session_token_id"), ["token_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dashboard_session_user_id"), ["user_id"], unique=False)
    op.create_table(
        "silence_warning",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("since", syndicator.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", syndicator.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["channel_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "stage", "since", name="uq_silence_warning"),
    )
    with op.batch_alter_table("silence_warning", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_silence_warning_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("silence_warning", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_silence_warning_account_id"))
    op.drop_table("silence_warning")
    with op.batch_alter_table("dashboard_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_dashboard_session_token_id"))
    op.drop_table("dashboard_session")
    op.drop_table("app_secret")
