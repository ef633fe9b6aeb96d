"""Chat messages to moderators and officers go through an outbox (the Notification table).

A message is written in the same transaction as the decision to send it and delivered by a job,
so it survives Telegram being unreachable, and its `key` makes it unique: a reminder that several
workers find due at once is still sent once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import Notification


async def notify(
    session: AsyncSession, *, key: str, chat_id: int | None, text: str, payload: dict[str, Any] | None = None
) -> bool:
    """Queue a message once per key; False when the key was queued before or no chat is configured."""
    if chat_id is None:
        return False
    if (await session.exec(select(Notification.id).where(Notification.key == key))).first() is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(Notification(key=key, chat_id=chat_id, text=text, payload=payload or {}))
    except IntegrityError:  # another worker queued the same key first
        return False
    return True
