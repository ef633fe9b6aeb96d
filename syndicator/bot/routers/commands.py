"""/help, /start, /queue (paged), /stats and /resume (read a stopped article's comments again)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.bot.callbacks import QueuePageCb
from syndicator.bot.keyboards import queue_keyboard
from syndicator.bot.middlewares import AfterCommit
from syndicator.models import utcnow
from syndicator.moderation.cards import HELP_TEXT, render_queue, render_stats
from syndicator.moderation.polling import resume as resume_intake
from syndicator.moderation.queries import daily_stats, pending_page


async def help_(message: Message, after_commit: AfterCommit) -> None:
    after_commit.add(message.answer, HELP_TEXT)


async def queue(message: Message, session: AsyncSession, after_commit: AfterCommit) -> None:
    entries, pages, total = await pending_page(session, 0)
    text = render_queue(entries, page=0, pages=pages, total=total)
    after_commit.add(message.answer, text, reply_markup=queue_keyboard(0, pages))


async def queue_page(
    query: CallbackQuery,
    callback_data: QueuePageCb,
    session: AsyncSession,
    after_commit: AfterCommit,
    bot: Bot,
) -> None:
    entries, pages, total = await pending_page(session, callback_data.page)
    page = min(max(callback_data.page, 0), pages - 1)
    after_commit.add(query.answer)
    if query.message is not None:
        after_commit.add(
            bot.edit_message_text,
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            text=render_queue(entries, page=page, pages=pages, total=total),
            reply_markup=queue_keyboard(page, pages),
        )


async def stats(message: Message, session: AsyncSession, after_commit: AfterCommit) -> None:
    after_commit.add(message.answer, render_stats(await daily_stats(session)))


async def resume(
    message: Message, command: CommandObject, session: AsyncSession, after_commit: AfterCommit
) -> None:
    """/resume 文章编号: comments of an article whose intake stopped (too old) are read again."""
    article_id = (command.args or "").strip()
    if not article_id.isdigit():
        after_commit.add(message.answer, "用法：/resume 文章编号（例如 /resume 12）")
        return
    resumed = await resume_intake(session, article_id=int(article_id), now=utcnow())
    if resumed:
        after_commit.add(message.answer, f"已恢复读取文章 #{article_id} 的评论。")
    else:
        after_commit.add(message.answer, f"文章 #{article_id} 没有可恢复的评论读取。")


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(help_, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(queue, Command("queue"))
    router.callback_query.register(queue_page, QueuePageCb.filter())
    router.message.register(stats, Command("stats"))
    router.message.register(resume, Command("resume"))
    return router
