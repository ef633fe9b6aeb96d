"""comment intake cursors per article in the database

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

comment_cursor (one cursor per account) becomes comment_intake: one row per account feed (target
"") or per published article, with its cadence (next_poll_at) and whether it stopped. Account
cursors carry over as feed rows; WeChat articles get their rows from the scheduler.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import syndicator.models.common

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = syndicator.models.common.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "comment_intake",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=True),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("resumed_at", UTC_DATETIME, nullable=True),
        sa.Column("next_poll_at", UTC_DATETIME, nullable=False),
        sa.Column("polled_at", UTC_DATETIME, nullable=True),
        sa.Column("stopped_at", UTC_DATETIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["channel_account.id"]),
        sa.ForeignKeyConstraint(["publication_id"], ["publication.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "target", name="uq_comment_intake_target"),
    )
    with op.batch_alter_table("comment_intake", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_intake_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comment_intake_next_poll_at"), ["next_poll_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_comment_intake_publication_id"), ["publication_id"], unique=False
        )
    op.execute(
        "INSERT INTO comment_intake (account_id, target, cursor, started_at, next_poll_at, polled_at) "
        "SELECT c.account_id, '', c.cursor, c.polled_at, c.polled_at, c.polled_at "
        "FROM comment_cursor c JOIN channel_account a ON a.id = c.account_id WHERE a.platform <> 'wechat'"
    )
    op.drop_table("comment_cursor")


def downgrade() -> None:
    op.create_table(
        "comment_cursor",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("polled_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["channel_account.id"]),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.execute(
        "INSERT INTO comment_cursor (account_id, cursor, polled_at) "
        "SELECT account_id, cursor, COALESCE(polled_at, started_at) FROM comment_intake WHERE target = ''"
    )
    with op.batch_alter_table("comment_intake", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_intake_publication_id"))
        batch_op.drop_index(batch_op.f("ix_comment_intake_next_poll_at"))
        batch_op.drop_index(batch_op.f("ix_comment_intake_account_id"))
    op.drop_table("comment_intake")
