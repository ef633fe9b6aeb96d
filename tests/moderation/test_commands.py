"""/help, /queue (paged) and /stats, fed straight to the Dispatcher; spam auto-rejection and
reply reminders at the service level."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlmodel import select

from channels.base import RemoteComment
from syndicator.bot.app import build_dispatcher, fsm_storage
from syndicator.bot.callbacks import CommentAct, CommentCb
from syndicator.bot.client import build_bot
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import ChannelAccount, Comment, CommentIntake, Notification, Publication, utcnow
from syndicator.moderation import service
from syndicator.moderation.reminders import remind_replies
from syndicator.workdays import WorkCalendar
from tests.fake_telegram import FakeTelegram
from tests.moderation.conftest import ALICE, CHAT, World


@pytest.fixture
async def bot_and_dp(mod_settings: Settings, db: Database) -> AsyncIterator[tuple[Bot, Dispatcher]]:
    bot = build_bot(mod_settings)
    storage = fsm_storage(mod_settings)
    dp = build_dispatcher(db=db, storage=storage, redis=None, calendar=WorkCalendar())
    yield bot, dp
    await storage.close()
    await bot.session.close()


async def feed(telegram: FakeTelegram, bot: Bot, dp: Dispatcher) -> None:
    for raw in telegram.take_updates():
        await dp.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))


async def ingest(
    db: Database, world: World, texts: list[str], *, received: datetime, **kwargs: Any
) -> list[int]:
    async with db.transaction() as session:
        account = await session.get(ChannelAccount, world.account_id)
        assert account is not None
        remote = [
            RemoteComment(f"r{i}-{t}", "app-article-1", f"市民{i}", t, received) for i, t in enumerate(texts)
        ]
        result = await service.ingest_comments(
            session, account, remote, calendar=WorkCalendar(), chat_id=CHAT, **kwargs
        )
    return result.new


async def test_help_explains_in_chinese(
    telegram: FakeTelegram, bot_and_dp: tuple[Bot, Dispatcher], world: World
) -> None:
    telegram.send_text(ALICE, CHAT, "/help")
    await feed(telegram, *bot_and_dp)
    (message,) = telegram.sent(CHAT)
    assert "先审后发" in message["text"] and "/queue" in message["text"]


async def test_queue_lists_pending_comments_page_by_page(
    telegram: FakeTelegram, bot_and_dp: tuple[Bot, Dispatcher], world: World, db: Database
) -> None:
    await ingest(db, world, [f"待审评论{i}" for i in range(7)], received=utcnow())
    telegram.send_text(ALICE, CHAT, "/queue")
    await feed(telegram, *bot_and_dp)
    (page,) = telegram.sent(CHAT)
    assert "共 7 条（第 1/2 页）" in page["text"] and page["text"].count("#") == 5
    telegram.press(ALICE, CHAT, page["message_id"], telegram.buttons(CHAT, page["message_id"])["下一页 ➡️"])
    await feed(telegram, *bot_and_dp)
    assert "第 2/2 页" in page["text"] and page["text"].count("#") == 2


async def test_stats_show_today_and_overdue_replies(
    telegram: FakeTelegram, bot_and_dp: tuple[Bot, Dispatcher], world: World, db: Database
) -> None:
    (late,) = await ingest(db, world, ["上个月的留言"], received=utcnow() - timedelta(days=30))
    today = await ingest(db, world, ["今天的留言一", "今天的留言二"], received=utcnow())
    async with db.transaction() as session:
        assert (await service.approve_comment(session, today[0], reviewer=world.alice)).won
    telegram.send_text(ALICE, CHAT, "/stats")
    await feed(telegram, *bot_and_dp)
    (stats,) = telegram.sent(CHAT)
    assert "新收评论：2" in stats["text"] and "通过：1" in stats["text"]
    assert "超期未回复：1 条" in stats["text"] and f"#{late} " in stats["text"]


async def test_marking_complex_from_the_card_extends_the_deadline(
    telegram: FakeTelegram, bot_and_dp: tuple[Bot, Dispatcher], world: World, db: Database
) -> None:
    (comment_id,) = await ingest(
        db, world, ["这个问题比较复杂"], received=datetime(2026, 3, 2, 2, tzinfo=UTC)
    )
    card = await telegram_card(telegram, "占位")
    data = CommentCb(action=CommentAct.COMPLEX, comment_id=comment_id, revision=1).pack()
    telegram.press(ALICE, CHAT, card["message_id"], data)
    await feed(telegram, *bot_and_dp)
    assert "10 个工作日，复杂" in card["text"] and "🧩 标记复杂" not in str(card.get("reply_markup"))
    async with db.transaction() as session:
        comment = await session.get(Comment, comment_id)
    assert comment is not None and comment.complex
    assert comment.reply_due_at == datetime(2026, 3, 16, 16, tzinfo=UTC)  # 10 working days after Mon 3-2


async def telegram_card(telegram: FakeTelegram, text: str) -> dict[str, Any]:
    """A message in the chat for a card to be pressed on (the deliverer is not part of this test)."""
    from tests.fake_telegram import BOT_USER

    message = await telegram._api_sendMessage({"chat_id": CHAT, "text": text})
    assert message["from"] == BOT_USER
    return telegram.messages[(CHAT, message["message_id"])]


async def test_spam_is_rejected_automatically_unless_switched_off(db: Database, world: World) -> None:
    spam = "加微信 bet365vip 领取彩金"
    (auto,) = await ingest(db, world, [spam], received=utcnow())
    (manual,) = await ingest(db, world, [spam + "！"], received=utcnow(), auto_reject_spam=False)
    async with db.transaction() as session:
        rejected, pending = await session.get(Comment, auto), await session.get(Comment, manual)
        cards = (await session.exec(select(Notification.key))).all()
    assert rejected is not None and pending is not None
    assert (rejected.state, rejected.apply_state, rejected.decided_by) == ("rejected", "pending", None)
    assert pending.state == "pending" and "gambling" in pending.extra["kinds"]
    assert cards == [f"comment-card:{manual}:1"]  # no card for what the system rejected


async def test_reminders_before_due_and_alerts_when_overdue_are_queued_once(
    db: Database, world: World
) -> None:
    (soon,) = await ingest(db, world, ["快到期"], received=datetime(2026, 3, 2, 2, tzinfo=UTC))
    (late,) = await ingest(db, world, ["已超期"], received=datetime(2026, 2, 2, 2, tzinfo=UTC))
    async with db.transaction() as session:
        due = (await session.get(Comment, soon)).reply_due_at  # type: ignore[union-attr]
    now = due - timedelta(hours=1)  # type: ignore[operator]
    for _ in range(2):
        async with db.transaction() as session:
            await remind_replies(session, moderation_chat_id=CHAT, officer_chat_id=-99, now=now)
    async with db.transaction() as session:
        keys = sorted((await session.exec(select(Notification.key))).all())
    assert [k.split(":")[0] for k in keys if not k.startswith("comment-card")] == [
        "comment-due-soon",
        "comment-overdue",
        "comment-overdue",
    ]
    assert any(k.endswith(":officer") and f":{late}:" in k for k in keys)


async def test_a_moderator_resumes_a_stopped_articles_comments(
    telegram: FakeTelegram, bot_and_dp: tuple[Bot, Dispatcher], world: World, db: Database
) -> None:
    async with db.transaction() as session:
        publication = (await session.exec(select(Publication))).one()
        session.add(
            CommentIntake(
                account_id=world.account_id,
                target="msg/art",
                publication_id=publication.id,
                next_poll_at=utcnow() - timedelta(days=9),
                stopped_at=utcnow() - timedelta(days=1),
            )
        )
    telegram.send_text(ALICE, CHAT, f"/resume {publication.article_id}")
    await feed(telegram, *bot_and_dp)
    (answer,) = telegram.sent(CHAT)
    assert f"已恢复读取文章 #{publication.article_id}" in answer["text"]
    async with db.transaction() as session:
        intake = (await session.exec(select(CommentIntake))).one()
    assert intake.stopped_at is None and intake.resumed_at is not None
    telegram.send_text(ALICE, CHAT, "/resume")
    await feed(telegram, *bot_and_dp)
    assert "用法" in telegram.sent(CHAT)[-1]["text"]
