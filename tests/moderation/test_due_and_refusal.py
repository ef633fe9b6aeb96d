"""Reply due dates in working days (provisional ones flagged on the card, in the API and the log),
marking a comment complex, and a platform refusal shown on the card."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import select

from channels.base import RemoteComment
from syndicator.api.app import create_app
from syndicator.api.comments import router
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import ChannelAccount, Comment
from syndicator.moderation import service
from syndicator.moderation.cards import render_card
from syndicator.workdays import WorkCalendar
from tests.fake_telegram import FakeTelegram
from tests.moderation.conftest import ALICE, CHAT, World, polling_bot, run_jobs, seed_comment
from tests.moderation.test_bot_flow import comment_to_card


async def ingest_one(db: Database, world: World, remote_id: str, created_at: datetime) -> Comment:
    async with db.transaction() as session:
        account = await session.get(ChannelAccount, world.account_id)
        assert account is not None
        result = await service.ingest_comments(
            session,
            account,
            [RemoteComment(remote_id, "app-article-1", "市民", "请问何时办理？", created_at)],
            calendar=WorkCalendar(),
            chat_id=CHAT,
        )
        comment = await session.get(Comment, result.new[0])
        assert comment is not None
        return comment


async def test_due_dates_count_statutory_working_days(db: Database, world: World) -> None:
    # Wednesday 2026-09-30, 10:00 Shanghai: the National Day holiday (10-01..10-07) does not
    # count; Thu 10-08 and Fri 10-09 do, so the reply is due by the end of 10-09, Shanghai.
    comment = await ingest_one(db, world, "c-due", datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    assert comment.reply_due_at == datetime(2026, 10, 9, 16, 0, tzinfo=UTC)
    assert not comment.due_provisional
    async with db.transaction() as session:
        card = render_card(await service.card_view(session, comment))
    assert "回复期限：2026-10-10 00:00 前（2 个工作日）" in card and "暂定" not in card


async def test_a_due_date_in_an_unknown_year_is_provisional_everywhere(
    db: Database,
    world: World,
    mod_settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    comment = await ingest_one(db, world, "c-year-end", datetime(2026, 12, 30, 2, 0, tzinfo=UTC))
    assert comment.due_provisional
    captured = capsys.readouterr()
    assert "comment_due_provisional" in captured.out + captured.err  # logs go to stderr once configured
    async with db.transaction() as session:
        card = render_card(await service.card_view(session, comment))
        decision = await service.mark_complex(
            session, comment.id, reviewer=world.alice, calendar=WorkCalendar()
        )  # type: ignore[arg-type]
        assert decision.won and decision.comment is not None
        assert (
            decision.comment.reply_due_at is not None and decision.comment.reply_due_at > comment.reply_due_at
        )  # type: ignore[operator]
        complex_card = render_card(await service.card_view(session, decision.comment))
    assert "暂定期限" in card
    assert "10 个工作日，复杂" in complex_card and "暂定期限" in complex_card

    app = create_app(mod_settings)
    app.include_router(router)
    async with db.transaction() as session:
        from syndicator.security import new_token, hash_token  # noqa: I001
        from syndicator.models import ApiToken

        token = new_token()
        session.add(ApiToken(user_id=world.alice.id, token_hash=hash_token(token)))  # type: ignore[arg-type]
    with BackgroundServer(app) as server:
        listed = httpx.get(
            f"{server.url}/api/v1/comments", headers={"Authorization": f"Bearer {token}"}
        ).json()
    assert listed[0]["due_provisional"] is True and listed[0]["complex"] is True


async def test_a_platform_refusal_is_shown_on_the_card(
    mod_settings: Settings, db: Database, world: World, telegram: FakeTelegram
) -> None:
    seed_comment(world.app_url, "这条评论平台已删除")
    card = await comment_to_card(mod_settings, telegram, "这条评论平台已删除")
    httpx.post(
        f"{world.app_url}/_emulator/faults",
        json={
            "queue": [
                {"kind": "answer", "status": 403, "body": {"error": "评论已被平台删除"}, "path": "/approve"}
            ]
        },
    ).raise_for_status()
    async with polling_bot(mod_settings, db):
        telegram.press(ALICE, CHAT, card["message_id"], telegram.buttons(CHAT, card["message_id"])["✅ 通过"])
        await telegram.wait_for(lambda: "已通过 — alice" in card["text"], what="decision on the card")
    await run_jobs(mod_settings)
    await run_jobs(mod_settings, "deliver_notifications")
    assert "❗ 平台拒绝执行" in card["text"] and "评论已被平台删除" in card["text"]
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
    assert (comment.state, comment.apply_state) == ("approved", "failed")
