"""Who may decide, and exactly one decision when two moderators press at once; edits re-moderate."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import AuditEvent, Comment
from syndicator.moderation import service
from tests.fake_telegram import FakeTelegram
from tests.moderation.conftest import (
    ALICE,
    BOB,
    CAROL,
    CHAT,
    MALLORY,
    World,
    polling_bot,
    run_jobs,
    seed_comment,
)
from tests.moderation.test_bot_flow import card_of, comment_to_card


async def test_unregistered_users_are_refused_politely_and_audited(
    mod_settings: Settings, db: Database, world: World, telegram: FakeTelegram
) -> None:
    seed_comment(world.app_url, "支持！")
    card = await comment_to_card(mod_settings, telegram, "支持！")
    approve = telegram.buttons(CHAT, card["message_id"])["✅ 通过"]
    async with polling_bot(mod_settings, db):
        telegram.press(MALLORY, CHAT, card["message_id"], approve)
        telegram.press(CAROL, CHAT, card["message_id"], approve)  # an editor is no reviewer
        telegram.send_text(MALLORY, CHAT, "/queue")
        await telegram.wait_for(lambda: len(telegram.answers()) == 2, what="two refusals")
        refusal = await telegram.wait_for(
            lambda: next((m for m in telegram.sent(CHAT) if "尚未登记为审核人员" in m["text"]), None)
        )
    assert all(
        a["show_alert"] in ("true", "True", True) and "尚未登记" in a["text"] for a in telegram.answers()
    )
    assert "6666" in refusal["text"]  # tells them the id an administrator registers
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
        assert comment.state == "pending"
        refused = (await session.exec(select(AuditEvent).where(AuditEvent.action == "bot.refused"))).all()
    assert sorted(e.actor for e in refused) == ["telegram:1003", "telegram:6666", "telegram:6666"]


async def test_two_moderators_pressing_at_once_make_one_decision(
    mod_settings: Settings, db: Database, world: World, telegram: FakeTelegram
) -> None:
    seed_comment(world.app_url, "希望加快进度")
    card = await comment_to_card(mod_settings, telegram, "希望加快进度")
    buttons = telegram.buttons(CHAT, card["message_id"])
    async with polling_bot(mod_settings, db):
        telegram.press(ALICE, CHAT, card["message_id"], buttons["✅ 通过"])
        telegram.press(BOB, CHAT, card["message_id"], buttons["⛔ 拒绝"])
        await telegram.wait_for(lambda: len(telegram.answers()) == 2, what="both answered")
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
        decisions = (
            await session.exec(
                select(AuditEvent).where(AuditEvent.action.in_(("comment.approved", "comment.rejected")))  # type: ignore[attr-defined]
            )
        ).all()
    assert len(decisions) == 1
    winner = "alice" if comment.state == "approved" else "bob"
    assert decisions[0].actor == f"user:{winner}"
    loser_answer = next(a for a in telegram.answers() if "已由" in a.get("text", ""))
    assert f"已由 {winner}" in loser_answer["text"]
    assert f"— {winner} 于" in card["text"]


async def test_concurrent_sessions_cannot_both_decide(
    db: Database, world: World, mod_settings: Settings
) -> None:
    seed_comment(world.app_url, "并发测试")
    await run_jobs(mod_settings, "poll_comments")
    async with db.transaction() as session:
        comment_id = (await session.exec(select(Comment.id))).one()

    async def press(reviewer, decide):  # type: ignore[no-untyped-def]
        async with db.transaction() as session:
            return await decide(session, comment_id, reviewer=reviewer, revision=1)

    results = await asyncio.gather(
        press(world.alice, service.approve_comment), press(world.bob, service.reject_comment)
    )
    assert sorted(r.outcome for r in results) == [service.Outcome.ALREADY_DECIDED, service.Outcome.DECIDED]
    loser = next(r for r in results if not r.won)
    winner = next(r for r in results if r.won)
    assert loser.decider is not None and loser.decider.id == winner.decider.id  # type: ignore[union-attr]


async def test_an_edited_comment_goes_back_to_pending_with_a_new_card(
    mod_settings: Settings, db: Database, world: World, telegram: FakeTelegram
) -> None:
    remote_id = seed_comment(world.app_url, "原来的评论")
    old_card = await comment_to_card(mod_settings, telegram, "原来的评论")
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
        assert (await service.approve_comment(session, comment.id, reviewer=world.alice)).won  # type: ignore[arg-type]
    await run_jobs(mod_settings)

    seed_comment(world.app_url, "修改后的评论 加微信 abc12345", comment_id=remote_id)
    await run_jobs(mod_settings, "poll_comments")
    await run_jobs(mod_settings, "deliver_notifications")
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
    assert (comment.revision, comment.content) == (2, "修改后的评论 加微信 abc12345")
    assert comment.state == "rejected" and comment.decision_reason == "自动拒绝：垃圾信息"  # spam now

    seed_comment(world.app_url, "修改后的评论，没有广告了", comment_id=remote_id)
    await run_jobs(mod_settings, "poll_comments")
    await run_jobs(mod_settings, "deliver_notifications")
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
    assert (comment.revision, comment.state, comment.decided_by) == (3, "pending", None)
    new_card = card_of(telegram, "没有广告了")
    assert new_card is not None and new_card["message_id"] != old_card["message_id"]
    assert "第 3 版" in new_card["text"]
    assert "已被作者修改，此卡片作废" in old_card["text"] and "reply_markup" not in old_card

    async with polling_bot(mod_settings, db):  # a button on a stale card decides nothing
        telegram.press(
            ALICE,
            CHAT,
            new_card["message_id"],
            telegram.buttons(CHAT, new_card["message_id"])["✅ 通过"].replace(":3", ":1"),
        )
        await telegram.wait_for(lambda: telegram.answers(), what="answer")
    assert "评论已被作者修改" in telegram.answers()[0]["text"]
    async with db.transaction() as session:
        assert (await session.exec(select(Comment.state))).one() == "pending"
