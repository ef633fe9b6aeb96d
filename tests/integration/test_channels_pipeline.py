"""Each channel through the real queue: webhook -> arq worker -> adapter -> emulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from arq import Retry
from sqlmodel import select

from channels.http import make_http_client
from channels.wechat.emulator import create_app as create_wechat
from channels.weibo.emulator import create_app as create_weibo
from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.context import WorkerContext
from syndicator.models import ChannelAccount, Notification, PublicationState
from syndicator.pipeline.jobs import publish_publication
from syndicator.pipeline.withdrawal import request_withdrawal
from syndicator.queue import connect
from tests.integration.conftest import COVER, WECHAT_APP_ID
from tests.support import (
    corpus_articles,
    emulator_state,
    inject_faults,
    post_signed,
    publications,
    run_worker,
)


@dataclass
class Channel:
    platform: str
    server: BackgroundServer
    account: dict[str, Any]
    publish_path: str

    def published_count(self) -> int:
        state = emulator_state(self.server.url)
        return len(state["submissions"]) if self.platform == "wechat" else len(state["shares"])


@pytest.fixture(params=["wechat", "weibo"])
def channel(request, monkeypatch) -> Iterator[Channel]:
    if request.param == "wechat":
        monkeypatch.setenv("TEST_WECHAT_SECRET", "wechat-secret")
        app = create_wechat(app_id=WECHAT_APP_ID, app_secret="wechat-secret", publish_delay_seconds=0.1)
        account = {"app_id": WECHAT_APP_ID, "secret_env": "TEST_WECHAT_SECRET", "default_cover": str(COVER)}
        path = "/cgi-bin/freepublish/submit"
    else:
        monkeypatch.setenv("TEST_WEIBO_TOKEN", "weibo-token")
        app = create_weibo(access_token="weibo-token", safe_domains=("gov.cn",))
        account = {"secret_env": "TEST_WEIBO_TOKEN", "safe_domain": "xingning.gov.cn"}
        path = "/2/statuses/share.json"
    with BackgroundServer(app) as server:
        yield Channel(request.param, server, account, path)


@pytest.fixture
async def article(db, api, channel) -> dict[str, Any]:
    article = corpus_articles()[1]
    async with db.transaction() as session:
        await admin.add_unit(session, article["unit"], article["unit_level"], None, actor="test")
        await admin.add_account(
            session,
            unit=article["unit"],
            platform=channel.platform,
            name="account",
            api_base_url=channel.server.url,
            actor="test",
            **channel.account,
        )
    assert (await post_signed(api, article)).status_code == 202
    return article


async def test_article_is_published_once_through_the_queue(db, settings, article, channel) -> None:
    await run_worker(settings)
    (publication,) = await publications(db)
    assert publication.state == PublicationState.PUBLISHED, publication.error_message
    assert publication.remote_id and publication.remote_url
    assert channel.published_count() == 1


@pytest.mark.parametrize("kind", ["timeout_after", "drop_after"])
async def test_lost_answer_is_read_back_not_posted_again(db, settings, article, channel, kind) -> None:
    inject_faults(channel.server.url, hang_seconds=3, queue=[{"kind": kind, "path": channel.publish_path}])
    await run_worker(settings)
    (publication,) = await publications(db)
    assert publication.state == PublicationState.PUBLISHED, publication.error_message
    assert channel.published_count() == 1


async def test_transient_platform_errors_are_retried(db, settings, article, channel) -> None:
    busy = (
        {"errcode": -1, "errmsg": "system error"}
        if channel.platform == "wechat"
        else {"request": channel.publish_path, "error_code": 10001, "error": "system error!"}
    )
    status = 200 if channel.platform == "wechat" else 500
    inject_faults(
        channel.server.url,
        queue=[{"kind": "answer", "status": status, "body": busy, "path": channel.publish_path}],
    )
    await run_worker(settings)
    (publication,) = await publications(db)
    assert publication.state == PublicationState.PUBLISHED and publication.attempts >= 1
    assert channel.published_count() == 1


async def test_platform_refusal_fails_with_its_code(db, settings, article, channel) -> None:
    refusal = (
        {"errcode": 48001, "errmsg": "api unauthorized"}
        if channel.platform == "wechat"
        else {"request": channel.publish_path, "error_code": 20020, "error": "Contain advertising!"}
    )
    status = 200 if channel.platform == "wechat" else 400
    inject_faults(
        channel.server.url,
        queue=[{"kind": "answer", "status": status, "body": refusal, "path": channel.publish_path}],
    )
    await run_worker(settings)
    (publication,) = await publications(db)
    assert publication.state == PublicationState.FAILED
    assert publication.error_code == str(refusal.get("errcode", refusal.get("error_code")))
    assert channel.published_count() == 0


@pytest.fixture
def alerting(settings):
    return settings.model_copy(update={"moderation_chat_id": -1001})


async def test_expired_weibo_token_marks_the_account_and_tells_the_chat(
    db, alerting, article, channel
) -> None:
    if channel.platform != "weibo":
        pytest.skip("WeChat renews its own tokens; only a Weibo token needs a person")
    expired = {"request": channel.publish_path, "error_code": 21327, "error": "expired_token"}
    inject_faults(
        channel.server.url,
        queue=[{"kind": "answer", "status": 401, "body": expired, "path": channel.publish_path}],
    )
    await run_worker(alerting)
    (publication,) = await publications(db)
    assert publication.state == PublicationState.FAILED and publication.error_code == "reauthorize"
    async with db.transaction() as session:
        account = (await session.exec(select(ChannelAccount))).one()
        (alert,) = (await session.exec(select(Notification))).all()
    assert account.needs_reauth
    assert alert.chat_id == -1001 and "重新授权" in alert.text


async def test_dead_letter_is_told_to_the_moderators_chat(db, alerting, article, channel) -> None:
    inject_faults(
        channel.server.url,
        random_rate=1.0,
        random_faults=[{"kind": "status", "status": 503, "path": channel.publish_path}],
    )
    await run_worker(alerting)
    (publication,) = await publications(db)
    assert publication.state == PublicationState.FAILED and publication.error_code == "retries_exhausted"
    async with db.transaction() as session:
        (alert,) = (await session.exec(select(Notification))).all()
    assert "失败" in alert.text and alert.key == f"publication:{publication.id}:failed:0"


def live_posts(channel: Channel) -> list[Any]:
    state = emulator_state(channel.server.url)
    if channel.platform == "wechat":
        return [items for items in state["articles"].values() if not items[0]["is_deleted"]]
    return [status for status in state["statuses"] if not status["deleted"]]


async def test_a_send_in_doubt_of_a_withdrawn_article_is_read_back_and_removed(
    db, settings, article, channel
) -> None:
    """The platform took the post but its answer was lost; the article is withdrawn before the
    retry. The retry must find that post and remove it, never post again, never leave it live."""
    inject_faults(
        channel.server.url, hang_seconds=3, queue=[{"kind": "timeout_after", "path": channel.publish_path}]
    )
    (publication,) = await publications(db)
    redis_client = await connect(settings.redis_url, settings.queue_name)
    try:
        async with make_http_client(settings.channel_timeout_seconds) as http:
            context = WorkerContext(settings=settings, db=db, redis=redis_client, http=http)
            with pytest.raises(Retry):  # outcome unknown: retried later, reading back first
                await publish_publication({"context": context, "job_try": 1}, publication.id)
            (publication,) = await publications(db)
            assert publication.state == PublicationState.SENDING
            async with db.transaction() as session:
                await request_withdrawal(session, publication.article_id, actor="test", source=None)
            await publish_publication({"context": context, "job_try": 2}, publication.id)
    finally:
        await redis_client.aclose()
    await run_worker(settings)  # the WeChat poll, then the removal

    (publication,) = await publications(db)
    assert publication.state == PublicationState.WITHDRAWN, publication.error_message
    assert channel.published_count() == 1  # read back, never posted again
    assert live_posts(channel) == []
