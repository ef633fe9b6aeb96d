"""Delivering the Notification outbox to Telegram: plain messages, comment cards and card updates.

Rows stay `pending` until Telegram accepted them; a failed try is kept as `failed` with
`attempts`/`last_error` and retried with backoff, so decisions and alerts survive Telegram (or
the network) being down. Cards are rendered from the comment as it is at delivery time.
Delivery is at-least-once: a crash between Telegram's answer and the commit repeats a message.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter
from sqlalchemy import update
from sqlmodel import col, select

from syndicator.bot.client import build_bot
from syndicator.bot.keyboards import comment_keyboard
from syndicator.config import Settings
from syndicator.context import WorkerContext
from syndicator.db import Database
from syndicator.models import Comment, Notification, utcnow
from syndicator.moderation.cards import render_card
from syndicator.moderation.intake import CARD_KIND, CARD_UPDATE_KIND, SUPERSEDED_KIND
from syndicator.moderation.service import card_view
from syndicator.pipeline.policy import backoff_seconds

log = structlog.get_logger(__name__)

BATCH_SIZE = 50
DELIVERY_INTERVAL = 3.0  # seconds between outbox passes
MAX_ATTEMPTS = 50  # about a day of backoff capped at RETRY_CAP_SECONDS; then kept for inspection
RETRY_BASE_SECONDS = 2.0
RETRY_CAP_SECONDS = 1800.0


async def deliver_pending(db: Database, bot_factory: Any, *, now: datetime | None = None) -> int:
    """Send what is due; returns how many were delivered. `bot_factory()` builds the Bot."""
    now = now or utcnow()
    async with db.transaction() as session:
        rows = (
            await session.exec(
                select(Notification)
                .where(
                    col(Notification.state).in_(("pending", "failed")), Notification.attempts < MAX_ATTEMPTS
                )
                .order_by(col(Notification.id))
                .limit(BATCH_SIZE)
            )
        ).all()
    due = [n for n in rows if _due(n, now)]
    if not due:
        return 0
    bot: Bot = bot_factory()
    sent = 0
    try:
        for notification in due:
            try:
                await _deliver_one(db, bot, notification)
                sent += 1
            except TelegramRetryAfter as exc:
                await _mark_failed(db, notification, exc, defer=float(exc.retry_after))
                break
            except TelegramNetworkError as exc:  # Telegram unreachable: the rest wait for the next run
                await _mark_failed(db, notification, exc)
                break
            except TelegramAPIError as exc:
                await _mark_failed(db, notification, exc)
    finally:
        await bot.session.close()
    return sent


def default_bot_factory(settings: Any) -> Any:
    return lambda: build_bot(settings)


def _due(notification: Notification, now: datetime) -> bool:
    at = (notification.payload or {}).get("next_attempt_at")
    return at is None or datetime.fromisoformat(at) <= now


async def _deliver_one(db: Database, bot: Bot, notification: Notification) -> None:
    kind = (notification.payload or {}).get("kind")
    if kind == CARD_KIND:
        await _send_card(db, bot, notification)
    elif kind == CARD_UPDATE_KIND:
        await _update_card(db, bot, notification)
    elif kind == SUPERSEDED_KIND:
        await _edit(
            bot, notification.chat_id, int(notification.payload["message_id"]), notification.text, None
        )
    else:
        await bot.send_message(chat_id=notification.chat_id, text=notification.text)
    await _mark_sent(db, notification)


async def _send_card(db: Database, bot: Bot, notification: Notification) -> None:
    comment_id = int(notification.payload["comment_id"])
    async with db.transaction() as session:
        comment = await session.get(Comment, comment_id)
        if comment is None or comment.revision != notification.payload.get("revision"):
            return  # an edit superseded this card; its own card is queued
        if comment.card_message_id is not None:
            return  # sent before a crash cut the bookkeeping short
        text = render_card(await card_view(session, comment))
        keyboard = comment_keyboard(
            comment_id, comment.revision, comment.state, complex_=comment.complex, category=comment.category
        )
    message = await bot.send_message(chat_id=notification.chat_id, text=text, reply_markup=keyboard)
    async with db.transaction() as session:
        await session.exec(
            update(Comment)
            .where(col(Comment.id) == comment_id, col(Comment.revision) == notification.payload["revision"])
            .values(card_chat_id=notification.chat_id, card_message_id=message.message_id)
        )
    log.info("comment_card_sent", comment_id=comment_id, message_id=message.message_id)


async def _update_card(db: Database, bot: Bot, notification: Notification) -> None:
    async with db.transaction() as session:
        comment = await session.get(Comment, int(notification.payload["comment_id"]))
        if comment is None or comment.card_chat_id is None or comment.card_message_id is None:
            return  # no card yet: when it is sent it shows the current state anyway
        text = render_card(await card_view(session, comment))
        keyboard = comment_keyboard(
            comment.id or 0,
            comment.revision,
            comment.state,
            complex_=comment.complex,
            category=comment.category,
        )
        chat_id, message_id = comment.card_chat_id, comment.card_message_id
    await _edit(bot, chat_id, message_id, text, keyboard)


async def _edit(bot: Bot, chat_id: int, message_id: int, text: str, keyboard: Any) -> None:
    try:
        await bot.edit_message_text(chat_id=chat_id, message_id=message_id, text=text, reply_markup=keyboard)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def _mark_sent(db: Database, notification: Notification) -> None:
    async with db.transaction() as session:
        await session.exec(
            update(Notification)
            .where(col(Notification.id) == notification.id)
            .values(state="sent", sent_at=utcnow(), attempts=Notification.attempts + 1, last_error=None)
        )


async def _mark_failed(
    db: Database, notification: Notification, exc: TelegramAPIError, *, defer: float | None = None
) -> None:
    attempts = notification.attempts + 1
    delay = (
        defer
        if defer is not None
        else backoff_seconds(attempts, base=RETRY_BASE_SECONDS, cap=RETRY_CAP_SECONDS)
    )
    payload = {
        **(notification.payload or {}),
        "next_attempt_at": (utcnow() + timedelta(seconds=delay)).isoformat(),
    }
    async with db.transaction() as session:
        await session.exec(
            update(Notification)
            .where(col(Notification.id) == notification.id)
            .values(
                state="failed",
                attempts=attempts,
                last_error=f"{type(exc).__name__}: {exc}"[:1000],
                payload=payload,
            )
        )
    log.warning(
        "notification_delivery_failed",
        notification_id=notification.id,
        attempts=attempts,
        retry_in_seconds=round(delay, 1),
        error=str(exc),
    )


async def deliver_notifications(ctx: dict[str, Any]) -> int:
    """One delivery pass as an arq job (the tests drive delivery this way)."""
    deps: WorkerContext = ctx["context"]
    if not deps.settings.telegram_token.get_secret_value():
        return 0
    return await deliver_pending(deps.db, default_bot_factory(deps.settings))


async def deliver_forever(
    db: Database, settings: Settings, *, every_seconds: float = DELIVERY_INTERVAL
) -> None:
    """The bot process sends the outbox beside polling. Messages queued while the bot is down wait
    in the database and go out when it is back; the worker never loads aiogram (it is ~120 MB)."""
    factory = default_bot_factory(settings)
    while True:
        try:
            await deliver_pending(db, factory)
        except Exception:  # a bad pass must not stop delivery; the rows stay pending
            log.exception("delivery_pass_failed")
        await asyncio.sleep(every_seconds)
