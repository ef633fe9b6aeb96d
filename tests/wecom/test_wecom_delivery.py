"""The outbox reaches WeCom despite outages, rate limits and expired tokens; alerts go to the
moderators or the officers; the access token has one owner."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from redis.asyncio import Redis
from sqlmodel import col, select

from channels.base import PermanentError
from channels.http import make_http_client
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings, WeComRecipients
from syndicator.db import Database
from syndicator.models import ChatDelivery, Notification, utcnow
from syndicator.notify import notify
from syndicator.wecom.client import build_client
from tests.moderation.conftest import World, run_jobs, seed_comment
from tests.support import inject_faults
from tests.wecom.conftest import OFFICERS_TAG, deliver, only_card, state, texts_to, with_wecom


async def deliveries(db: Database) -> list[ChatDelivery]:
    async with db.transaction() as session:
        return list(
            (await session.exec(select(ChatDelivery).order_by(col(ChatDelivery.notification_id)))).all()
        )


async def test_messages_wait_while_wecom_is_unreachable_and_go_out_later(
    wecom_settings: Settings, db: Database, wecom_world: World, wecom: BackgroundServer
) -> None:
    async with db.transaction() as session:
        await notify(session, key="alert:held", chat_id=0, text="🚫 文章已暂停发布：发现涉密标识")
    seed_comment(wecom_world.app_url, "停机期间收到的评论")
    await run_jobs(wecom_settings, "poll_comments")
    async with db.transaction() as session:  # the alert and the comment's card wait in the outbox
        assert len((await session.exec(select(Notification))).all()) == 2

    outage = {"kind": "status", "status": 503, "path": "message/send"}
    inject_faults(wecom.url, queue=[outage, outage])
    assert await deliver(wecom_settings, db) == 0
    down = await deliveries(db)
    assert [(d.state, d.attempts) for d in down] == [("failed", 1)]  # the pass stops at the first
    assert down[0].last_error and "503" in down[0].last_error
    assert state(wecom.url)["messages"] == []

    assert await deliver(wecom_settings, db) == 0  # the alert backs off; the card fails in turn
    assert [(d.state, d.attempts) for d in await deliveries(db)] == [("failed", 1), ("failed", 1)]
    assert await deliver(wecom_settings, db, now=utcnow() + timedelta(hours=1)) == 2
    assert [d.state for d in await deliveries(db)] == ["sent", "sent"]
    assert texts_to(wecom.url, "wang") == ["🚫 文章已暂停发布：发现涉密标识"]
    assert "停机期间收到的评论" in only_card(wecom.url)[1]["content"]["quote_area"]["quote_text"]
    assert await deliver(wecom_settings, db, now=utcnow() + timedelta(hours=2)) == 0  # nothing twice


async def test_a_rate_limit_defers_the_rest_of_the_pass(
    wecom_settings: Settings, db: Database, wecom: BackgroundServer
) -> None:
    async with db.transaction() as session:
        for n in range(3):
            await notify(session, key=f"alert:{n}", chat_id=0, text=f"提醒 {n}")
    limited = {"errcode": 45009, "errmsg": "api freq out of limit"}
    inject_faults(
        wecom.url, queue=[{"kind": "answer", "status": 200, "body": limited, "path": "message/send"}]
    )
    assert await deliver(wecom_settings, db) == 0
    (first,) = await deliveries(db)  # the other two were not tried
    assert first.state == "failed" and "45009" in (first.last_error or "")
    assert first.next_attempt_at is not None and first.next_attempt_at > utcnow() + timedelta(seconds=50)
    assert await deliver(wecom_settings, db, now=utcnow() + timedelta(minutes=2)) == 3


async def test_an_expired_token_is_refreshed_once_and_the_call_repeated(
    wecom_settings: Settings, db: Database, wecom: BackgroundServer
) -> None:
    async with db.transaction() as session:
        await notify(session, key="alert:a", chat_id=0, text="第一条")
    await deliver(wecom_settings, db)
    httpx.post(f"{wecom.url}/_emulator/expire_token").raise_for_status()  # WeCom answers 42001 next
    async with db.transaction() as session:
        await notify(session, key="alert:b", chat_id=0, text="第二条")
    assert await deliver(wecom_settings, db) == 1
    assert texts_to(wecom.url, "wang") == ["第一条", "第二条"]
    assert state(wecom.url)["token_calls"] == 2


async def test_twenty_concurrent_callers_fetch_the_token_once(
    wecom_settings: Settings, wecom: BackgroundServer
) -> None:
    redis = Redis.from_url(wecom_settings.redis_url)
    try:
        async with make_http_client() as http:
            clients = [build_client(wecom_settings, http, redis) for _ in range(20)]  # as if 20 processes
            tokens = await asyncio.gather(*(c._tokens.token() for c in clients))
    finally:
        await redis.aclose()
    assert len(set(tokens)) == 1 and state(wecom.url)["token_calls"] == 1


async def test_a_wrong_secret_is_a_permanent_error_naming_the_setting(
    wecom_settings: Settings, wecom: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(wecom_settings.wecom_secret_env, "not-the-secret")
    async with make_http_client() as http:
        with pytest.raises(PermanentError, match="SYNDICATOR_WECOM_SECRET_ENV") as refused:
            await build_client(wecom_settings, http, None)._tokens.token()
    assert "not-the-secret" not in str(refused.value)


async def test_officers_get_officer_messages_and_moderators_the_rest(
    wecom_settings: Settings, db: Database, wecom: BackgroundServer
) -> None:
    settings = with_wecom(
        wecom_settings, wecom.url, wecom_officers=WeComRecipients(tags=[OFFICERS_TAG]), officer_chat_id=1
    )
    async with db.transaction() as session:
        await notify(session, key="escalation", chat_id=settings.officer_chat_id, text="❗ 转载已超时")
        await notify(session, key="dead-letter", chat_id=settings.moderation_chat_id, text="⚠️ 发布失败")
    await deliver(settings, db)
    assert texts_to(wecom.url, "qian") == ["❗ 转载已超时"]
    assert texts_to(wecom.url, "wang") == ["⚠️ 发布失败"]
