"""Per-update unit of work and the reviewer check.

`DbSessionMiddleware` opens one transaction per handled update and hands the handler `session`
and `after_commit`: Telegram calls and job enqueues registered there run only once the decision
is committed (so a job never sees an uncommitted decision, and a card never shows a decision
that was rolled back). `ReviewerMiddleware` lets through registered reviewers only; anyone else
gets a polite refusal and the attempt is audited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.types import User as TelegramUser
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import audit
from syndicator.db import Database
from syndicator.models import User
from syndicator.moderation.cards import refusal_text

log = structlog.get_logger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class AfterCommit:
    """Actions to run once the update's transaction has committed, in order."""

    def __init__(self) -> None:
        self._actions: list[tuple[Callable[..., Awaitable[Any]], tuple[Any, ...], dict[str, Any]]] = []

    def add(self, action: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> None:
        self._actions.append((action, args, kwargs))

    async def run(self) -> None:
        for action, args, kwargs in self._actions:
            try:
                await action(*args, **kwargs)
            except TelegramAPIError as exc:  # the decision stands; the card catches up via the outbox
                log.warning(
                    "bot_after_commit_failed", action=getattr(action, "__name__", "?"), error=str(exc)
                )


class DbSessionMiddleware(BaseMiddleware):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        after = AfterCommit()
        async with self.db.transaction() as session:
            data["session"] = session
            data["after_commit"] = after
            result = await handler(event, data)
        await after.run()
        return result


async def user_by_telegram_id(session: AsyncSession, telegram_id: int, roles: frozenset[str]) -> User | None:
    user = (await session.exec(select(User).where(User.telegram_id == telegram_id))).first()
    if user is None or not user.active or not user.role_set & roles:
        return None
    return user


class RoleMiddleware(BaseMiddleware):
    """Lets through registered users holding one of `roles`; refuses (and audits) everyone else.

    It sits on each feature router, so it runs only for updates a handler would act on: other
    chatter in a group gets no refusal.
    """

    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        session: AsyncSession = data["session"]
        sender: TelegramUser | None = data.get("event_from_user")
        user = await user_by_telegram_id(session, sender.id, self.roles) if sender else None
        if user is not None:
            data["user"] = user
            data["reviewer"] = user
            return await handler(event, data)
        sender_id = sender.id if sender else None
        audit.record(
            session,
            actor=f"telegram:{sender_id}",
            action="bot.refused",
            object_type="telegram_update",
            object_id=_describe(event),
            source="telegram",
            username=sender.username if sender else None,
            needs=sorted(self.roles),
        )
        log.warning(
            "bot_refused_user", telegram_id=sender_id, what=_describe(event), needs=sorted(self.roles)
        )
        refusal = refusal_text(self.roles)
        text = f"{refusal}\n（您的 Telegram ID：{sender_id}）"
        after: Any = data["after_commit"]
        if isinstance(event, CallbackQuery):
            after.add(event.answer, refusal, show_alert=True)
        elif isinstance(event, Message):
            after.add(event.reply, text)
        return None


def _describe(event: TelegramObject) -> str:
    if isinstance(event, CallbackQuery):
        return f"callback:{event.data}"[:100]
    if isinstance(event, Message):
        return f"message:{(event.text or '')[:60]}"
    return type(event).__name__
