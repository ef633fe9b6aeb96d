"""Reply deadlines: a reminder before a reply is due and an alert once it is overdue, via the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import Comment
from syndicator.moderation.queries import due_soon, overdue
from syndicator.notify import notify
from syndicator.workdays import deadline_text

REMIND_BEFORE = timedelta(hours=4)


def _provisional(comment: Comment) -> str:
    return "（暂定期限，节假日安排未知）" if comment.due_provisional else ""


async def remind_replies(
    session: AsyncSession, *, moderation_chat_id: int | None, officer_chat_id: int | None, now: datetime
) -> int:
    """Queue each reminder once per comment revision and deadline (the key makes it unique)."""
    queued = 0
    for comment in await due_soon(session, now=now, within=REMIND_BEFORE):
        assert comment.reply_due_at is not None
        queued += await notify(
            session,
            key=f"comment-due-soon:{comment.id}:{comment.revision}:{comment.reply_due_at.isoformat()}",
            chat_id=moderation_chat_id,
            text=(
                f"⏰ 评论 #{comment.id}（{comment.author}）将于 {deadline_text(comment.reply_due_at)} "
                f"到期{_provisional(comment)}，请尽快处理。"
            ),
            payload={"comment_id": comment.id},
        )
    for comment in await overdue(session, now=now, limit=500):
        assert comment.reply_due_at is not None
        text = (
            f"❗ 评论 #{comment.id}（{comment.author}）已超过回复期限 {deadline_text(comment.reply_due_at)}"
            f"{_provisional(comment)}，请立即处理。"
        )
        key = f"comment-overdue:{comment.id}:{comment.revision}:{comment.reply_due_at.isoformat()}"
        queued += await notify(session, key=key, chat_id=moderation_chat_id, text=text)
        if officer_chat_id is not None and officer_chat_id != moderation_chat_id:
            queued += await notify(session, key=f"{key}:officer", chat_id=officer_chat_id, text=text)
    return queued
