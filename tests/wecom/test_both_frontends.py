"""Telegram and WeCom on one office: the same card in both, and a moderator pressing in Telegram
while another presses in WeCom still makes exactly one decision, which both cards then show."""

from __future__ import annotations

import asyncio

import httpx
from sqlmodel import col, select

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import AuditEvent, Comment
from tests.fake_telegram import FakeTelegram
from tests.moderation.conftest import ALICE, CHAT, World, polling_bot, run_jobs, seed_comment
from tests.moderation.test_bot_flow import card_of
from tests.wecom.conftest import buttons, deliver, eventually, only_card, press, texts_to, with_wecom


async def test_a_telegram_and_a_wecom_press_at_once_make_one_decision(
    mod_settings: Settings,
    db: Database,
    wecom_world: World,
    telegram: FakeTelegram,
    wecom: BackgroundServer,
    monkeypatch,
) -> None:
    from tests.wecom.conftest import SECRET, SECRET_ENV

    monkeypatch.setenv(SECRET_ENV, SECRET)
    settings = with_wecom(
        mod_settings, wecom.url, chat_frontends=["telegram", "wecom"], moderation_chat_id=CHAT
    )
    seed_comment(wecom_world.app_url, "两边同时处理的评论")
    await run_jobs(settings, "poll_comments")
    await run_jobs(settings, "deliver_notifications")
    await deliver(settings, db)
    tg_card = card_of(telegram, "两边同时处理的评论")
    assert tg_card is not None
    task_id, wc_card = only_card(wecom.url)

    with BackgroundServer(create_app(settings)) as api:
        callback = f"{api.url}/api/v1/chat/wecom/callback"
        httpx.post(f"{wecom.url}/_emulator/config", json={"callback_url": callback}).raise_for_status()
        async with polling_bot(settings, db):
            telegram.press(
                ALICE, CHAT, tg_card["message_id"], telegram.buttons(CHAT, tg_card["message_id"])["✅ 通过"]
            )
            await asyncio.to_thread(press, wecom.url, "li", task_id, buttons(wc_card)["拒绝"])
            await telegram.wait_for(lambda: telegram.answers(), what="Telegram press answered")
            await telegram.wait_for(lambda: "状态：⏳" not in tg_card["text"], what="Telegram card decided")

    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
        decisions = (
            await session.exec(
                select(AuditEvent).where(col(AuditEvent.action).in_(("comment.approved", "comment.rejected")))
            )
        ).all()
    assert len(decisions) == 1 and comment.state in ("approved", "rejected")
    winner = "alice" if comment.state == "approved" else "bob"
    if winner == "alice":  # the WeCom member lost and is told who decided
        await eventually(lambda: any("已由 alice" in t for t in texts_to(wecom.url, "li")), what="li told")
    else:  # the Telegram moderator lost and is told who decided
        assert "已由 bob" in telegram.answers()[0]["text"]

    await run_jobs(settings, "deliver_notifications")
    await run_jobs(settings)  # the apply job
    await run_jobs(settings, "deliver_notifications")
    await deliver(settings, db)
    label = "已通过" if comment.state == "approved" else "已拒绝"
    assert f"{label} — {winner}" in tg_card["text"]
    _, wc_card = only_card(wecom.url)
    assert f"{label} — {winner}" in wc_card["content"]["sub_title_text"]
    assert "平台：已生效" in tg_card["text"] and "平台：已生效" in wc_card["content"]["sub_title_text"]
