"""Moderators' decisions on comments. Services take a session and never commit.

Two moderators pressing at once: each decision is one conditional UPDATE
(`... WHERE state IN (...) AND revision = ?`) and only the one that changed a row wins; the
other is told who decided. A decision leaves `apply_state = pending`; the caller enqueues
`apply_decision` after committing (jobs.py), and the reconciler cron catches any it missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import Platform
from syndicator import audit
from syndicator.models import ApplyState, ChannelAccount, Comment, CommentCategory, CommentState, User, utcnow
from syndicator.moderation.cards import CATEGORY_LABELS, CardView
from syndicator.moderation.intake import (
    COMPLEX_REPLY_DAYS,
    IngestResult,
    card_key,
    category_clock,
    ingest_comments,
    queue_card_update,
)
from syndicator.workdays import WorkCalendar

__all__ = [
    "Decision",
    "Outcome",
    "IngestResult",
    "approve_comment",
    "card_key",
    "card_view",
    "ingest_comments",
    "mark_complex",
    "reclassify_comment",
    "reject_comment",
    "reply_to_comment",
]

MANUAL_REJECT_REASON = "审核人员拒绝"
MAX_REPLY_CHARS = 1000
# Platforms where a comment is hidden until approved (先审后发 enforced by the platform itself).
PREMODERATED = {Platform.APP, Platform.WECHAT}


class Outcome(StrEnum):
    DECIDED = "decided"
    ALREADY_DECIDED = "already_decided"  # someone else was first
    STALE = "stale"  # the comment was edited since the card was sent
    NOT_FOUND = "not_found"
    INVALID = "invalid"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    comment: Comment | None = None
    decider: User | None = None
    message: str = ""

    @property
    def won(self) -> bool:
        return self.outcome is Outcome.DECIDED


async def approve_comment(
    session: AsyncSession,
    comment_id: int,
    *,
    reviewer: User,
    revision: int | None = None,
    now: datetime | None = None,
) -> Decision:
    return await _decide(
        session, comment_id, reviewer, CommentState.APPROVED, (CommentState.PENDING,), revision, {}, now
    )


async def reject_comment(
    session: AsyncSession,
    comment_id: int,
    *,
    reviewer: User,
    reason: str | None = None,
    revision: int | None = None,
    now: datetime | None = None,
) -> Decision:
    values = {"decision_reason": reason or MANUAL_REJECT_REASON}
    return await _decide(
        session, comment_id, reviewer, CommentState.REJECTED, (CommentState.PENDING,), revision, values, now
    )


async def reply_to_comment(
    session: AsyncSession,
    comment_id: int,
    text: str,
    *,
    reviewer: User,
    revision: int | None = None,
    now: datetime | None = None,
) -> Decision:
    """Post an official reply; replying to a pending comment approves it too."""
    text = text.strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        return Decision(Outcome.INVALID, message=f"回复内容不能为空，且不超过 {MAX_REPLY_CHARS} 字")
    now = now or utcnow()
    values = {"reply_text": text, "replied_at": now}
    return await _decide(
        session,
        comment_id,
        reviewer,
        CommentState.REPLIED,
        (CommentState.PENDING, CommentState.APPROVED),
        revision,
        values,
        now,
    )


async def mark_complex(
    session: AsyncSession,
    comment_id: int,
    *,
    reviewer: User,
    calendar: WorkCalendar,
    revision: int | None = None,
    now: datetime | None = None,
) -> Decision:
    """A complex message gets 10 working days instead of 2 (兴市府办〔2014〕19号)."""
    comment = await session.get(Comment, comment_id)
    if comment is None:
        return Decision(Outcome.NOT_FOUND)
    due = calendar.add_working_days(comment.received_at, COMPLEX_REPLY_DAYS)
    result = await session.exec(
        update(Comment)
        .where(
            col(Comment.id) == comment_id,
            col(Comment.revision) == (revision or comment.revision),
            col(Comment.complex).is_(False),
            col(Comment.state).in_((CommentState.PENDING, CommentState.APPROVED)),
        )
        .values(
            complex=True, reply_due_at=due.at, due_provisional=due.provisional, updated_at=now or utcnow()
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(comment)
    if result.rowcount != 1:
        return await _lost(session, comment, revision)
    audit.record(
        session,
        actor=f"user:{reviewer.name}",
        action="comment.marked_complex",
        object_type="comment",
        object_id=comment_id,
        revision=comment.revision,
        reply_due_at=due.at.isoformat(),
        due_provisional=due.provisional,
    )
    await queue_card_update(session, comment)
    return Decision(Outcome.DECIDED, comment, reviewer)


async def reclassify_comment(
    session: AsyncSession,
    comment_id: int,
    category: CommentCategory | str,
    *,
    reviewer: User,
    calendar: WorkCalendar,
    revision: int | None = None,
    now: datetime | None = None,
) -> Decision:
    """A moderator says what the comment is. A netizen correction (网民纠错) is forwarded within 1
    working day and resolved within 2 (江苏), counted from its arrival; a message goes back to the
    reply clock (2 working days, 10 if complex)."""
    if category not in CommentCategory.__members__.values():
        return Decision(Outcome.INVALID, message=f"未知的类别：{category}")
    category = CommentCategory(category)
    comment = await session.get(Comment, comment_id)
    if comment is None:
        return Decision(Outcome.NOT_FOUND)
    if comment.category == category:
        return Decision(Outcome.INVALID, comment, message=f"该评论已是{CATEGORY_LABELS[category]}")
    clock = category_clock(calendar, comment.received_at, category, complex_=comment.complex)
    result = await session.exec(
        update(Comment)
        .where(
            col(Comment.id) == comment_id,
            col(Comment.revision) == (revision or comment.revision),
            col(Comment.category) == comment.category,
            col(Comment.state).in_((CommentState.PENDING, CommentState.APPROVED)),
        )
        .values(category=category, updated_at=now or utcnow(), **clock)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(comment)
    if result.rowcount != 1:
        return await _lost(session, comment, revision)
    audit.record(
        session,
        actor=f"user:{reviewer.name}",
        action="comment.reclassified",
        object_type="comment",
        object_id=comment_id,
        revision=comment.revision,
        category=category.value,
        reply_due_at=comment.reply_due_at.isoformat() if comment.reply_due_at else None,
    )
    return Decision(Outcome.DECIDED, comment, reviewer)


async def _decide(
    session: AsyncSession,
    comment_id: int,
    reviewer: User,
    new_state: CommentState,
    from_states: tuple[CommentState, ...],
    revision: int | None,
    values: dict[str, Any],
    now: datetime | None,
) -> Decision:
    comment = await session.get(Comment, comment_id)
    if comment is None:
        return Decision(Outcome.NOT_FOUND)
    now = now or utcnow()
    result = await session.exec(
        update(Comment)
        .where(
            col(Comment.id) == comment_id,
            col(Comment.state).in_(from_states),
            col(Comment.revision) == (revision or comment.revision),
        )
        .values(
            state=new_state,
            decided_by=reviewer.id,
            decided_at=now,
            apply_state=ApplyState.PENDING,
            apply_error=None,
            updated_at=now,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(comment)
    if result.rowcount != 1:
        return await _lost(session, comment, revision)
    audit.record(
        session,
        actor=f"user:{reviewer.name}",
        action=f"comment.{new_state.value}",
        object_type="comment",
        object_id=comment_id,
        revision=comment.revision,
        reason=comment.decision_reason,
        reply=values.get("reply_text"),
        telegram_id=reviewer.telegram_id,
        wecom_user=reviewer.wecom_user,
    )
    await queue_card_update(session, comment)  # the other front ends learn of the decision too
    return Decision(Outcome.DECIDED, comment, reviewer)


async def _lost(session: AsyncSession, comment: Comment, revision: int | None) -> Decision:
    if revision is not None and comment.revision != revision:
        return Decision(Outcome.STALE, comment, message="评论已被作者修改，请处理新卡片")
    decider = await session.get(User, comment.decided_by) if comment.decided_by else None
    return Decision(Outcome.ALREADY_DECIDED, comment, decider)


async def card_view(session: AsyncSession, comment: Comment) -> CardView:
    """What the card shows for the comment as it is now."""
    assert comment.id is not None
    account = await session.get(ChannelAccount, comment.account_id)
    decider = await session.get(User, comment.decided_by) if comment.decided_by else None
    extra = comment.extra or {}
    return CardView(
        comment_id=comment.id,
        revision=comment.revision,
        platform=comment.platform,
        account_name=account.name if account else str(comment.account_id),
        article_title=str(extra.get("article_title") or comment.remote_article_id),
        author=comment.author,
        text=str(extra.get("masked_text") or comment.content),
        received_at=comment.received_at,
        state=comment.state,
        findings=comment.screening,
        complex=comment.complex,
        reply_due_at=comment.reply_due_at,
        due_provisional=comment.due_provisional,
        decided_by=decider.name if decider else None,
        decided_at=comment.decided_at,
        decision_reason=comment.decision_reason,
        reply_text=comment.reply_text,
        apply_state=comment.apply_state,
        apply_error=comment.apply_error,
        premoderated=comment.platform in PREMODERATED,
        category=comment.category,
        forward_due_at=comment.forward_due_at,
    )
