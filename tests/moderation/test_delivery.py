"""The Notification outbox reaches the chat even when Telegram was unreachable for a while."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from syndicator.bot.client import build_bot
from syndicator.bot.delivery import deliver_pending
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import Notification, utcnow
from syndicator.notify import notify
from tests.fake_telegram import FakeTelegram
from tests.moderation.conftest import CHAT, World, run_jobs, seed_comment


async def notifications(db: Database) -> list[Notification]:
    async with db.transaction() as session:
        return list((await session.exec(select(Notification).order_by(col(Notification.id)))).all())


async def test_messages_queued_while_telegram_is_down_are_delivered_later(
    mod_settings: Settings, db: Database, world: World, telegram: FakeTelegram
) -> None:
    async with db.transaction() as session:
        await notify(session, key="alert:1", chat_id=CHAT, text="⚠️ 发布失败：微信接口不可用")
    seed_comment(world.app_url, "停机期间收到的评论")
    await run_jobs(mod_settings, "poll_comments")

    telegram.stop()
    await run_jobs(mod_settings, "deliver_notifications")  # the cron while Telegram is unreachable
    down = await notifications(db)
    assert [(n.state, n.attempts) for n in down] == [("failed", 1), ("pending", 0)]  # stops at the first
    assert down[0].last_error and "TelegramNetworkError" in down[0].last_error
    assert telegram.sent() == []

    await deliver_pending(db, lambda: build_bot(mod_settings))  # still down, still due later
    telegram.start()  # back on the same port
    await deliver_pending(db, lambda: build_bot(mod_settings), now=utcnow() + timedelta(hours=1))

    delivered = await notifications(db)
    assert [n.state for n in delivered] == ["sent", "sent"]
    assert delivered[0].attempts == 2 and delivered[0].last_error is None
    texts = [m["text"] for m in telegram.sent(CHAT)]
    assert texts[0] == "⚠️ 发布失败：微信接口不可用"
    assert "停机期间收到的评论" in texts[1] and "通过" in str(telegram.sent(CHAT)[1]["reply_markup"])

    await deliver_pending(db, lambda: build_bot(mod_settings), now=utcnow() + timedelta(hours=2))
    assert len(telegram.calls_to("sendMessage")) == 2  # nothing sent twice
