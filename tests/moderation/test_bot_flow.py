"""End to end over real HTTP: app emulator -> poller -> card in the chat -> a button press through
long polling -> decision -> apply job -> the app shows (or hides) the comment -> card updated."""

from __future__ import annotations

from sqlmodel import col, select

from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import AuditEvent, Comment, Notification
from tests.fake_telegram import FakeTelegram
from tests.moderation.conftest import (
    ALICE,
    ARTICLE_TITLE,
    CHAT,
    World,
    polling_bot,
    public_comments,
    run_jobs,
    seed_comment,
)


def card_of(telegram: FakeTelegram, text: str) -> dict | None:
    return next((m for m in telegram.sent(CHAT) if text in m["text"] and "新评论" in m["text"]), None)


async def comment_to_card(settings: Settings, telegram: FakeTelegram, content: str) -> dict:
    await run_jobs(settings, "poll_comments")
    await run_jobs(settings, "deliver_notifications")
    card = card_of(telegram, content)
    assert card is not None, telegram.sent(CHAT)
    return card


async def test_comment_reaches_a_card_and_approval_publishes_it(
    mod_settings: Settings, db: Database, world: World, telegram: FakeTelegram
) -> None:
    seed_comment(world.app_url, "这项政策很好，请问什么时候实施？我的电话13812345678")
    assert public_comments(world.app_url) == []  # 先审后发: hidden until approved

    card = await comment_to_card(mod_settings, telegram, "这项政策很好")
    assert "138****5678" in card["text"] and "13812345678" not in card["text"]
    assert ARTICLE_TITLE in card["text"] and "应用" in card["text"]
    assert "手机号码（已屏蔽）" in card["text"] and "回复期限" in card["text"]
    buttons = telegram.buttons(CHAT, card["message_id"])
    assert set(buttons) == {"✅ 通过", "⛔ 拒绝", "💬 回复", "🧩 标记复杂", "🛠 改为网民纠错"}

    async with polling_bot(mod_settings, db):
        telegram.press(ALICE, CHAT, card["message_id"], buttons["✅ 通过"])
        await telegram.wait_for(lambda: "已通过 — alice" in card["text"], what="card edited")
        await telegram.wait_for(lambda: telegram.answers(), what="callback answered")
    assert "正在发布" in telegram.answers()[0]["text"]
    assert "reply_markup" not in card or "通过" not in str(card.get("reply_markup"))

    await run_jobs(mod_settings)  # the apply job the bot enqueued
    visible = public_comments(world.app_url)
    assert [c["content"] for c in visible] == ["这项政策很好，请问什么时候实施？我的电话13812345678"]

    await run_jobs(mod_settings, "deliver_notifications")
    assert "平台：已生效" in card["text"]
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
        assert (comment.state, comment.apply_state, comment.decided_by) == (
            "approved",
            "applied",
            world.alice.id,
        )
        actions = (
            await session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "comment"))
        ).all()
        assert "comment.approved" in actions and "comment.applied" in actions
        pending = (await session.exec(select(Notification).where(col(Notification.state) != "sent"))).all()
        assert pending == []


async def test_rejection_keeps_the_comment_hidden(
    mod_settings: Settings, db: Database, world: World, telegram: FakeTelegram
) -> None:
    seed_comment(world.app_url, "不同意这个规定")
    card = await comment_to_card(mod_settings, telegram, "不同意这个规定")
    async with polling_bot(mod_settings, db):
        telegram.press(ALICE, CHAT, card["message_id"], telegram.buttons(CHAT, card["message_id"])["⛔ 拒绝"])
        await telegram.wait_for(lambda: "已拒绝 — alice" in card["text"], what="card edited")
    await run_jobs(mod_settings)
    await run_jobs(mod_settings, "deliver_notifications")
    assert public_comments(world.app_url) == []
    assert "理由：审核人员拒绝" in card["text"] and "平台：已生效" in card["text"]
    state = (await _emulator_comment(world.app_url))["status"]
    assert state == "rejected"


async def test_reply_conversation_previews_then_posts_the_reply(
    mod_settings: Settings, db: Database, world: World, telegram: FakeTelegram
) -> None:
    seed_comment(world.app_url, "请问补贴怎么申请？")
    card = await comment_to_card(mod_settings, telegram, "请问补贴怎么申请？")
    async with polling_bot(mod_settings, db):
        telegram.press(ALICE, CHAT, card["message_id"], telegram.buttons(CHAT, card["message_id"])["💬 回复"])
        prompt = await telegram.wait_for(
            lambda: next((m for m in telegram.sent(CHAT) if "请输入对评论" in m["text"]), None), what="prompt"
        )
        assert "@alice_mod" in prompt["text"]
        telegram.send_text(ALICE, CHAT, "您好，可登录政务服务网在线申请，详见第三条。", reply_to=prompt)
        preview = await telegram.wait_for(
            lambda: next((m for m in telegram.sent(CHAT) if "回复预览" in m["text"]), None), what="preview"
        )
        assert "详见第三条" in preview["text"]
        telegram.press(
            ALICE, CHAT, preview["message_id"], telegram.buttons(CHAT, preview["message_id"])["📤 发送"]
        )
        await telegram.wait_for(lambda: "已回复 — alice" in card["text"], what="card shows the reply")
    assert "回复内容：您好，可登录政务服务网在线申请" in card["text"]
    assert "回复已提交" in preview["text"]

    await run_jobs(mod_settings)
    comment = await _emulator_comment(world.app_url)
    assert comment["status"] == "approved"  # a reply makes the comment public too
    assert comment["replies"] == ["您好，可登录政务服务网在线申请，详见第三条。"]


async def _emulator_comment(app_url: str) -> dict:
    import httpx

    response = httpx.get(f"{app_url}/v1/comments", params={"since": 0})
    return response.json()["comments"][0]  # type: ignore[no-any-return]
