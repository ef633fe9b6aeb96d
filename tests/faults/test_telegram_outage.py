"""The moderators' Telegram server unreachable for a while: no decision or alert is lost."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from syndicator.bot.client import build_bot
from syndicator.bot.delivery import deliver_pending
from syndicator.models import Notification, utcnow
from tests.moderation import conftest as moderation
from tests.moderation.conftest import ALICE, CHAT, polling_bot, public_comments, run_jobs, seed_comment
from tests.moderation.test_bot_flow import comment_to_card

# The moderation suite's fixtures: the fake Telegram server, the app world, settings pointing at both.
telegram, world, mod_settings = moderation.telegram, moderation.world, moderation.mod_settings


async def test_moderator_decisions_survive_telegram_outage(mod_settings, db, world, telegram) -> None:
    seed_comment(world.app_url, "停机前收到的评论：请问办理时限？")
    card = await comment_to_card(mod_settings, telegram, "停机前收到的评论")
    buttons = telegram.buttons(CHAT, card["message_id"])
    async with polling_bot(mod_settings, db):
        telegram.press(ALICE, CHAT, card["message_id"], buttons["✅ 通过"])
        await telegram.wait_for(lambda: "已通过" in card["text"], what="card edited")

    telegram.stop()  # Telegram unreachable from here on
    await run_jobs(mod_settings)  # the apply job: the platform does not need Telegram
    assert [c["content"] for c in public_comments(world.app_url)] == ["停机前收到的评论：请问办理时限？"]
    await deliver_pending(db, lambda: build_bot(mod_settings))  # fails and is kept
    async with db.transaction() as session:
        waiting = (await session.exec(select(Notification).where(Notification.state != "sent"))).all()
    assert waiting and all(n.last_error for n in waiting if n.attempts)

    telegram.start()
    later = utcnow() + timedelta(hours=1)
    await deliver_pending(db, lambda: build_bot(mod_settings), now=later)
    await deliver_pending(db, lambda: build_bot(mod_settings), now=later + timedelta(hours=1))
    async with db.transaction() as session:
        states = {n.state for n in (await session.exec(select(Notification))).all()}
    assert states == {"sent"}
    assert "已生效" in card["text"]  # the card learnt that the decision took effect
