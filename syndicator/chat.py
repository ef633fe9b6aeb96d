"""The chat process (`syndicator bot`): runs the chat front ends the office chose.

SYNDICATOR_CHAT_FRONTENDS picks them: Telegram (aiogram long polling, which also sends the
outbox to Telegram) and/or WeCom (the outbox sender; button presses and messages reach the API's
callback route). Both read the same moderation core and the same outbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from syndicator.config import Settings
from syndicator.db import open_database


async def run_chat(settings: Settings) -> None:
    runs: list[Coroutine[Any, Any, None]] = []
    if "telegram" in settings.chat_frontends:
        from syndicator.bot.app import run_bot  # aiogram is loaded only when Telegram is used

        runs.append(run_bot(settings))
    if settings.wecom_enabled:
        runs.append(_run_wecom(settings))
    await asyncio.gather(*runs)


async def _run_wecom(settings: Settings) -> None:
    from syndicator.wecom.delivery import deliver_forever

    db = open_database(settings.database_url)
    try:
        await deliver_forever(db, settings)
    finally:
        await db.dispose()
