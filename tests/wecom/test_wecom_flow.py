"""End to end over real HTTP with WeCom as the chat front end: app emulator -> poller -> template
card on the WeCom emulator -> a member presses a button (encrypted callback to the API) -> decision
-> apply job -> the app shows the comment -> the card is updated for everyone."""

from __future__ import annotations

import asyncio

import httpx
from sqlmodel import col, select

from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import AuditEvent, ChatDelivery, Comment
from syndicator.moderation.cards import STATE_LABELS
from tests.moderation.conftest import ARTICLE_TITLE, World, public_comments, run_jobs, seed_comment
from tests.wecom.conftest import (
    MEMBERS,
    buttons,
    deliver,
    eventually,
    only_card,
    press,
    state,
    texts_to,
    write,
)


async def comment_to_card(settings: Settings, db: Database, wecom_url: str) -> tuple[str, dict]:
    await run_jobs(settings, "poll_comments")
    assert await deliver(settings, db) >= 1
    return only_card(wecom_url)


async def test_the_callback_url_passes_wecoms_verification(
    wecom: BackgroundServer, callback_api: str
) -> None:
    assert httpx.post(f"{wecom.url}/_emulator/verify_url").json() == {"status": 200, "ok": True}
    forged = httpx.get(
        f"{callback_api}/api/v1/chat/wecom/callback",
        params={"msg_signature": "0" * 40, "timestamp": "1", "nonce": "n", "echostr": "abc"},
    )
    assert forged.status_code == 403


async def test_a_card_press_approves_and_the_card_is_updated_for_everyone(
    wecom_settings: Settings, db: Database, wecom_world: World, wecom: BackgroundServer, callback_api: str
) -> None:
    seed_comment(wecom_world.app_url, "这项政策很好，请问什么时候实施？我的电话13812345678")
    task_id, card = await comment_to_card(wecom_settings, db, wecom.url)

    content = card["content"]
    assert content["card_type"] == "button_interaction"
    assert sorted(card["recipients"]) == ["li", "wang", "zhao"]  # the moderators' tag
    assert "138****5678" in content["quote_area"]["quote_text"]
    assert "13812345678" not in str(content)  # masked as on the Telegram card
    assert ARTICLE_TITLE[:20] in content["horizontal_content_list"][0]["value"]
    assert "手机号码（已屏蔽）" in content["sub_title_text"] and "回复期限" in content["sub_title_text"]
    assert set(buttons(card)) == {"通过", "拒绝", "回复", "标记复杂"}

    answer = press(wecom.url, "wang", task_id, buttons(card)["通过"])
    assert answer == {"status": 200, "reply": None}
    await run_jobs(wecom_settings)  # the apply job the press enqueued
    assert [c["content"] for c in public_comments(wecom_world.app_url)] == [
        "这项政策很好，请问什么时候实施？我的电话13812345678"
    ]

    await deliver(wecom_settings, db)  # the card updates: decided, then applied
    _, card = only_card(wecom.url)
    assert "已通过 — alice" in card["content"]["sub_title_text"]
    assert "平台：已生效" in card["content"]["sub_title_text"]
    assert set(buttons(card)) == {"回复", "标记复杂"}  # an approved comment can still be answered
    assert card["updates"] and all(update["atall"] for update in card["updates"])
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
        assert (comment.state, comment.apply_state, comment.decided_by) == (
            "approved",
            "applied",
            wecom_world.alice.id,
        )
        approved = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "comment.approved"))
        ).one()
        assert approved.detail.get("wecom_user") == "wang"
        assert {d.state for d in (await session.exec(select(ChatDelivery))).all()} == {"sent"}


async def test_reply_is_the_next_message_and_can_be_cancelled(
    wecom_settings: Settings, db: Database, wecom_world: World, wecom: BackgroundServer, callback_api: str
) -> None:
    seed_comment(wecom_world.app_url, "请问补贴怎么申请？")
    task_id, card = await comment_to_card(wecom_settings, db, wecom.url)

    press(wecom.url, "wang", task_id, buttons(card)["回复"])
    prompt = await eventually(
        lambda: next((t for t in texts_to(wecom.url, "wang") if "请输入对评论" in t), None), what="prompt"
    )
    assert "取消" in prompt
    assert write(wecom.url, "wang", "取消")["reply"]["Content"] == "已取消。"
    assert "帮助" in write(wecom.url, "wang", "随便说一句")["reply"]["Content"]  # not taken as a reply

    press(wecom.url, "wang", task_id, buttons(card)["回复"])
    answer = write(wecom.url, "wang", "您好，可登录政务服务网在线申请，详见第三条。")
    assert "回复已提交" in answer["reply"]["Content"]
    await run_jobs(wecom_settings)
    comment = httpx.get(f"{wecom_world.app_url}/v1/comments", params={"since": 0}).json()["comments"][0]
    assert comment["status"] == "approved" and comment["replies"] == [
        "您好，可登录政务服务网在线申请，详见第三条。"
    ]

    await deliver(wecom_settings, db)
    _, card = only_card(wecom.url)
    assert "已回复 — alice" in card["content"]["sub_title_text"]
    assert "回复内容：您好，可登录政务服务网在线申请" in card["content"]["sub_title_text"]
    assert card["content"]["replace_text"] == "💬 已回复"  # nothing left to press


async def test_an_unmapped_member_is_refused_and_audited(
    wecom_settings: Settings, db: Database, wecom_world: World, wecom: BackgroundServer, callback_api: str
) -> None:
    assert "zhao" in MEMBERS  # in the moderators' tag, so the card reaches zhao, but no reviewer
    seed_comment(wecom_world.app_url, "支持！")
    task_id, card = await comment_to_card(wecom_settings, db, wecom.url)

    press(wecom.url, "zhao", task_id, buttons(card)["通过"])
    refusal = await eventually(
        lambda: next((t for t in texts_to(wecom.url, "zhao") if "尚未登记为审核人员" in t), None),
        what="refusal",
    )
    assert "联系管理员" in refusal
    queue = write(wecom.url, "zhao", "队列")["reply"]["Content"]
    assert "尚未登记" in queue and "zhao" in queue  # tells them the id an administrator registers
    officers_only = write(wecom.url, "wang", "合规")["reply"]["Content"]
    assert "督查人员" in officers_only  # a reviewer is no officer

    async with db.transaction() as session:
        assert (await session.exec(select(Comment))).one().state == "pending"
        refused = (await session.exec(select(AuditEvent).where(AuditEvent.action == "wecom.refused"))).all()
    assert sorted(e.actor for e in refused) == ["wecom:wang", "wecom:zhao", "wecom:zhao"]


async def test_queue_stats_and_compliance_as_text_commands(
    wecom_settings: Settings, db: Database, wecom_world: World, wecom: BackgroundServer, callback_api: str
) -> None:
    seed_comment(wecom_world.app_url, "路灯坏了很久了")
    await run_jobs(wecom_settings, "poll_comments")
    assert "待审核评论：共 1 条" in write(wecom.url, "wang", "队列")["reply"]["Content"]
    assert "今日统计" in write(wecom.url, "li", "统计")["reply"]["Content"]
    assert "政务新媒体评论审核" in write(wecom.url, "li", "帮助")["reply"]["Content"]
    assert "尚未登记" not in write(wecom.url, "qian", "合规")["reply"]["Content"]


async def test_two_members_pressing_at_once_make_one_decision(
    wecom_settings: Settings, db: Database, wecom_world: World, wecom: BackgroundServer, callback_api: str
) -> None:
    seed_comment(wecom_world.app_url, "希望加快进度")
    task_id, card = await comment_to_card(wecom_settings, db, wecom.url)
    await asyncio.gather(
        asyncio.to_thread(press, wecom.url, "wang", task_id, buttons(card)["拒绝"]),
        asyncio.to_thread(press, wecom.url, "li", task_id, buttons(card)["通过"]),
    )
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
        decisions = (
            await session.exec(
                select(AuditEvent).where(col(AuditEvent.action).in_(("comment.approved", "comment.rejected")))
            )
        ).all()
    assert len(decisions) == 1
    winner, loser = ("alice", "li") if comment.state == "rejected" else ("bob", "wang")
    told = await eventually(
        lambda: next((t for t in texts_to(wecom.url, loser) if f"已由 {winner}" in t), None),
        what="loser told",
    )
    assert STATE_LABELS[comment.state] in told
    assert state(wecom.url)["token_calls"] == 1  # one token for every call of the test


async def test_marking_complex_from_wecom_extends_the_deadline_on_every_card(
    wecom_settings: Settings, db: Database, wecom_world: World, wecom: BackgroundServer, callback_api: str
) -> None:
    seed_comment(wecom_world.app_url, "关于拆迁补偿标准的详细问题")
    task_id, card = await comment_to_card(wecom_settings, db, wecom.url)
    press(wecom.url, "li", task_id, buttons(card)["标记复杂"])
    await deliver(wecom_settings, db)
    _, card = only_card(wecom.url)
    assert "10 个工作日，复杂" in card["content"]["sub_title_text"]
    assert set(buttons(card)) == {"通过", "拒绝", "回复"}
    async with db.transaction() as session:
        assert (await session.exec(select(Comment))).one().complex


async def test_an_edited_comment_voids_its_old_card_and_gets_a_new_one(
    wecom_settings: Settings, db: Database, wecom_world: World, wecom: BackgroundServer, callback_api: str
) -> None:
    remote_id = seed_comment(wecom_world.app_url, "原来的评论")
    old_task, old_card = await comment_to_card(wecom_settings, db, wecom.url)
    seed_comment(wecom_world.app_url, "修改后的评论，补充了细节", comment_id=remote_id)
    await run_jobs(wecom_settings, "poll_comments")
    await deliver(wecom_settings, db)

    cards = state(wecom.url)["cards"]
    (new_task,) = set(cards) - {old_task}
    assert "第 2 版" in cards[new_task]["content"]["main_title"]["title"]
    assert "已被作者修改，此卡片作废" in cards[old_task]["content"]["sub_title_text"]
    assert cards[old_task]["content"]["replace_text"] == "已作废"  # nothing left to press there
    press(wecom.url, "wang", new_task, buttons(cards[new_task])["通过"])
    async with db.transaction() as session:
        assert (await session.exec(select(Comment))).one().state == "approved"
