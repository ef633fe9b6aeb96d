"""/help, /start, /queue (paged) and /stats."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.bot.callbacks import QueuePageCb
from syndicator.bot.keyboards import queue_keyboard
from syndicator.bot.middlewares import AfterCommit
from syndicator.moderation.cards import HELP_TEXT, render_queue, render_stats
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


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(help_, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(queue, Command("queue"))
    router.callback_query.register(queue_page, QueuePageCb.filter())
    router.message.register(stats, Command("stats"))
    return router
