"""/compliance for officers: today's repost-obligation summary and the overdue list, in their scope."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.bot.middlewares import AfterCommit
from syndicator.models import User, utcnow
from syndicator.obligations.compliance import compliance_summary


async def compliance(message: Message, session: AsyncSession, user: User, after_commit: AfterCommit) -> None:
    text = await compliance_summary(session, as_of=utcnow(), scope_unit_id=user.scope_unit_id)
    after_commit.add(message.answer, text)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(compliance, Command("compliance"))
    return router
