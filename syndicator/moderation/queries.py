"""Read side of moderation: the pending queue, today's numbers, overdue replies, the API listing."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, time, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import ChannelAccount, Comment, CommentState, utcnow
from syndicator.moderation.cards import DailyStats, QueueEntry
from syndicator.workdays import SHANGHAI

QUEUE_PAGE_SIZE = 5


def awaiting_reply() -> ColumnElement[bool]:
    """Comments still owing citizens an answer: undecided ones, and complex ones approved unanswered."""
    return or_(
        col(Comment.state) == CommentState.PENDING,
        and_(col(Comment.state) == CommentState.APPROVED, col(Comment.complex).is_(True)),
    )


def is_awaiting_reply(comment: Comment) -> bool:
    return comment.state == CommentState.PENDING or (
        comment.state == CommentState.APPROVED and comment.complex
    )


def queue_entry(comment: Comment, now: datetime) -> QueueEntry:
    assert comment.id is not None
    return QueueEntry(
        comment_id=comment.id,
        platform=comment.platform,
        author=comment.author,
        text=str((comment.extra or {}).get("masked_text") or comment.content),
        reply_due_at=comment.reply_due_at,
        due_provisional=comment.due_provisional,
        overdue=comment.reply_due_at is not None and comment.reply_due_at < now,
    )


async def pending_page(
    session: AsyncSession, page: int, *, size: int = QUEUE_PAGE_SIZE, now: datetime | None = None
) -> tuple[list[QueueEntry], int, int]:
    """(entries, pages, total) of pending comments, oldest due first; `page` is clamped."""
    now = now or utcnow()
    pending = col(Comment.state) == CommentState.PENDING
    total = (await session.exec(select(func.count()).select_from(Comment).where(pending))).one()
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    rows = await session.exec(
        select(Comment)
        .where(pending)
        .order_by(col(Comment.reply_due_at), col(Comment.id))
        .offset(page * size)
        .limit(size)
    )
    return [queue_entry(c, now) for c in rows.all()], pages, total


async def overdue(session: AsyncSession, *, now: datetime | None = None, limit: int = 50) -> list[Comment]:
    now = now or utcnow()
    rows = await session.exec(
        select(Comment)
        .where(awaiting_reply(), col(Comment.reply_due_at) < now)
        .order_by(col(Comment.reply_due_at))
        .limit(limit)
    )
    return list(rows.all())


async def due_soon(session: AsyncSession, *, now: datetime, within: timedelta) -> list[Comment]:
    rows = await session.exec(
        select(Comment).where(
            awaiting_reply(),
            col(Comment.reply_due_at) >= now,
            col(Comment.reply_due_at) < now + within,
        )
    )
    return list(rows.all())


async def daily_stats(session: AsyncSession, *, now: datetime | None = None) -> DailyStats:
    now = now or utcnow()
    local_day = now.astimezone(SHANGHAI).date()
    start = datetime.combine(local_day, time(0, 0), tzinfo=SHANGHAI)
    end = start + timedelta(days=1)

    async def count(*where: Any) -> int:
        return int((await session.exec(select(func.count()).select_from(Comment).where(*where))).one())

    decided_today = (col(Comment.decided_at) >= start, col(Comment.decided_at) < end)
    late = await overdue(session, now=now)
    return DailyStats(
        day=local_day.isoformat(),
        received=await count(col(Comment.received_at) >= start, col(Comment.received_at) < end),
        approved=await count(col(Comment.state) == CommentState.APPROVED, *decided_today),
        rejected=await count(col(Comment.state) == CommentState.REJECTED, *decided_today),
        replied=await count(col(Comment.state) == CommentState.REPLIED, *decided_today),
        pending=await count(col(Comment.state) == CommentState.PENDING),
        overdue=[queue_entry(c, now) for c in late],
    )


class CommentPublic(BaseModel):
    """A comment as the API shows it: phone and ID numbers masked, the due date flagged if provisional."""

    id: int
    platform: str
    account_id: int
    remote_id: str
    remote_article_id: str
    article_id: int | None
    author: str
    content: str
    revision: int
    state: str
    complex: bool
    screening: list[dict[str, Any]]
    received_at: datetime
    reply_due_at: datetime | None
    due_provisional: bool
    overdue: bool
    decided_by: int | None
    decided_at: datetime | None
    decision_reason: str | None
    reply_text: str | None
    apply_state: str
    apply_error: str | None


def public(comment: Comment, now: datetime) -> CommentPublic:
    assert comment.id is not None
    entry = queue_entry(comment, now)
    return CommentPublic(
        **comment.model_dump(
            include={
                "id",
                "platform",
                "account_id",
                "remote_id",
                "remote_article_id",
                "article_id",
                "author",
                "revision",
                "state",
                "complex",
                "screening",
                "received_at",
                "reply_due_at",
                "due_provisional",
                "decided_by",
                "decided_at",
                "decision_reason",
                "reply_text",
                "apply_state",
                "apply_error",
            }
        ),
        content=entry.text,
        overdue=entry.overdue and is_awaiting_reply(comment),
    )


async def list_comments(
    session: AsyncSession,
    *,
    state: str | None = None,
    overdue_only: bool = False,
    limit: int = 100,
    now: datetime | None = None,
    unit_ids: Collection[int] | None = None,
) -> list[CommentPublic]:
    """`unit_ids` (None: all) restricts the list to accounts of those units (a caller's scope)."""
    now = now or utcnow()
    query = select(Comment).order_by(col(Comment.id).desc()).limit(min(max(limit, 1), 1000))
    if unit_ids is not None:
        query = query.join(ChannelAccount, col(ChannelAccount.id) == col(Comment.account_id)).where(
            col(ChannelAccount.unit_id).in_(sorted(unit_ids))
        )
    if state:
        query = query.where(col(Comment.state) == state)
    if overdue_only:
        query = query.where(awaiting_reply(), col(Comment.reply_due_at) < now)
    return [public(c, now) for c in (await session.exec(query)).all()]
