"""Comment intake against the platform emulators over HTTP, with one fake clock for the platforms
and the worker: a rate limit holds back every caller on the credential until the reported reset,
the database holds every cursor (a Redis flush loses nothing), the cadence stops and resumes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis
from arq import Retry
from sqlmodel import select
from typer.testing import CliRunner

from channels.base import ArticleContent, RateLimitedError
from channels.wechat.emulator import create_app as create_wechat
from channels.weibo.emulator import create_app as create_weibo
from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.cli import app as cli_app
from syndicator.config import Settings, get_settings
from syndicator.db import Database
from syndicator.models import ChannelAccount, Comment, CommentIntake, Publication, PublicationState
from syndicator.moderation.jobs import poll_account_comments, poll_comments
from syndicator.pipeline.jobs import publish_publication
from syndicator.queue import connect
from syndicator.worker import shutdown, startup
from tests.conftest import OWNER_KEY
from tests.integration.conftest import COVER, WECHAT_APP_ID, WEIBO_TOKEN
from tests.support import corpus_articles, post_signed, publications, run_worker

RESET_SECONDS = 600  # what the Weibo emulator's rate_limit_status reports in the window
MARGIN = 5.0


@dataclass
class Clock:
    """One time for the emulators (datetime / epoch) and the worker's quota (epoch)."""

    epoch: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.epoch

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch, UTC)

    def advance(self, seconds: float) -> None:
        self.epoch += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def intake_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "quota_margin_seconds": MARGIN,
            "comment_feed_poll_seconds": 15,
            "channel_timeout_seconds": 10.0,  # a loaded machine must not turn a call into a timeout
        }
    )


@pytest.fixture
async def ctx(intake_settings: Settings, clock: Clock) -> AsyncIterator[dict[str, Any]]:
    """A worker's context, to run single jobs at chosen fake times."""
    arq_redis = await connect(intake_settings.redis_url, intake_settings.queue_name)
    context: dict[str, Any] = {"settings": intake_settings, "redis": arq_redis, "clock": clock}
    await startup(context)
    yield context
    await shutdown(context)
    await arq_redis.aclose()


async def add_account(db: Database, article: dict[str, Any], platform: str, url: str, **options: Any) -> int:
    async with db.transaction() as session:
        await admin.add_unit(session, article["unit"], article["unit_level"], None, actor="test")
        account = await admin.add_account(
            session,
            unit=article["unit"],
            platform=platform,
            name=platform,
            api_base_url=url,
            actor="test",
            **options,
        )
        assert account.id is not None
        return account.id


async def stored_comments(db: Database) -> list[Comment]:
    async with db.transaction() as session:
        return list((await session.exec(select(Comment).order_by(Comment.id))).all())


def variant(article: dict[str, Any], n: int) -> dict[str, Any]:
    return {**article, "external_id": f"{article['external_id']}-{n}", "title": f"{article['title']}（{n}）"}


# -- one quota per credential -------------------------------------------------------------------


@pytest.fixture
def weibo(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[BackgroundServer]:
    monkeypatch.setenv("TEST_WEIBO_TOKEN", WEIBO_TOKEN)
    with BackgroundServer(
        create_weibo(access_token=WEIBO_TOKEN, safe_domains=("gov.cn",), clock=clock.now)
    ) as server:
        yield server


def weibo_state(server: BackgroundServer) -> dict[str, Any]:
    return httpx.get(f"{server.url}/_emulator/state").json()  # type: ignore[no-any-return]


async def test_a_rate_limit_while_polling_holds_back_publishing_and_polling_until_the_reset(
    db: Database,
    api: httpx.AsyncClient,
    intake_settings: Settings,
    ctx: dict[str, Any],
    clock: Clock,
    weibo: BackgroundServer,
) -> None:
    article = corpus_articles()[1]
    account_id = await add_account(
        db, article, "weibo", weibo.url, secret_env="TEST_WEIBO_TOKEN", safe_domain="xingning.gov.cn"
    )
    assert (await post_signed(api, article)).status_code == 202
    await run_worker(intake_settings, ctx={"settings": intake_settings, "clock": clock})
    (published,) = await publications(db)
    assert published.state == PublicationState.PUBLISHED and published.remote_id
    texts = ["请问何时实施？", "支持！", "建议公开细则"]
    for text in texts:
        httpx.post(f"{weibo.url}/_emulator/comments", json={"status_id": published.remote_id, "text": text})
    limited = {
        "request": "/2/comments/to_me.json",
        "error_code": 10023,
        "error": "User requests out of rate limit!",
    }
    window = {"reset_time_in_seconds": RESET_SECONDS, "remaining_user_hits": 0, "user_limit": 150}
    faults = [
        {"kind": "answer", "status": 400, "body": limited, "path": "/comments/to_me"},
        {"kind": "answer", "status": 200, "body": window, "path": "/account/rate_limit_status"},
    ]
    httpx.post(f"{weibo.url}/_emulator/faults", json={"queue": faults}).raise_for_status()
    clock.advance(intake_settings.comment_feed_poll_seconds)  # the worker's startup tick read the feed

    assert await poll_comments(ctx) == 1
    assert await poll_account_comments(ctx, account_id) == 0  # 10023, then the reset looked up
    calls = len(weibo_state(weibo)["requests"])

    # A publish on the same token waits for the reset without calling Weibo.
    assert (await post_signed(api, variant(article, 2))).status_code == 202
    second = (await publications(db))[-1]
    with pytest.raises(Retry) as deferred:
        await publish_publication(ctx, second.id)
    assert RESET_SECONDS < deferred.value.defer_score / 1000 <= RESET_SECONDS + MARGIN  # type: ignore[operator]
    clock.advance(RESET_SECONDS / 2)
    assert await poll_comments(ctx) == 0  # nothing due: the intake waits for the reset too
    assert await poll_account_comments(ctx, account_id) == 0
    with pytest.raises(Retry):
        await publish_publication(ctx, second.id)
    assert len(weibo_state(weibo)["requests"]) == calls  # nobody called Weibo in the window
    assert await stored_comments(db) == []

    clock.advance(RESET_SECONDS / 2 + MARGIN + 1)
    assert await poll_comments(ctx) == 1
    assert await poll_account_comments(ctx, account_id) == 3
    assert sorted(c.content for c in await stored_comments(db)) == sorted(texts)
    assert await publish_publication(ctx, second.id) == PublicationState.PUBLISHED


async def test_polling_spends_only_its_share_of_the_hour_publishing_the_rest(
    db: Database, intake_settings: Settings, clock: Clock, weibo: BackgroundServer
) -> None:
    article = corpus_articles()[1]
    await add_account(
        db, article, "weibo", weibo.url, secret_env="TEST_WEIBO_TOKEN", safe_domain="xingning.gov.cn"
    )
    budget = intake_settings.model_copy(update={"quota_calls_per_hour": {"weibo": 4}})  # polling: 2
    arq_redis = await connect(budget.redis_url, budget.queue_name)
    context: dict[str, Any] = {"settings": budget, "redis": arq_redis, "clock": clock}
    await startup(context)
    try:
        async with db.transaction() as session:
            account = (await session.exec(select(ChannelAccount))).one()
        adapter = context["context"].adapter_for(account)
        await adapter.list_comments(None)
        await adapter.list_comments(None)
        calls = len(weibo_state(weibo)["requests"])
        with pytest.raises(RateLimitedError) as waiting:
            await adapter.list_comments(None)
        assert waiting.value.code == "quota_wait" and waiting.value.retry_after <= 3600
        for n in range(3):  # publishing is not held back by the count, only by the platform
            await adapter.publish(adapter.render(_content(variant(article, n))), key=f"share-{n}")
        assert len(weibo_state(weibo)["requests"]) == calls + 3
    finally:
        await shutdown(context)
        await arq_redis.aclose()


def _content(article: dict[str, Any]) -> ArticleContent:
    return ArticleContent(
        external_id=article["external_id"],
        title=article["title"],
        body_html=article["body_html"],
        url=article["url"],
        unit=article["unit"],
        published_at=datetime.fromisoformat(article["published_at"]),
        version=1,
    )


# -- the database holds every cursor --------------------------------------------------------------


@pytest.fixture
def wechat(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[BackgroundServer]:
    monkeypatch.setenv("TEST_WECHAT_SECRET", "wechat-secret")
    app = create_wechat(
        app_id=WECHAT_APP_ID, app_secret="wechat-secret", publish_delay_seconds=0, clock=clock
    )
    with BackgroundServer(app) as server:
        yield server


async def wechat_article(
    db: Database, api: httpx.AsyncClient, settings: Settings, clock: Clock, wechat: BackgroundServer
) -> tuple[int, Publication]:
    article = corpus_articles()[1]
    account_id = await add_account(
        db,
        article,
        "wechat",
        wechat.url,
        app_id=WECHAT_APP_ID,
        secret_env="TEST_WECHAT_SECRET",
        default_cover=str(COVER),
    )
    assert (await post_signed(api, article)).status_code == 202
    await run_worker(settings, ctx={"settings": settings, "clock": clock})
    (published,) = await publications(db)
    assert published.state == PublicationState.PUBLISHED, published.error_message
    return account_id, published


def comment_on(wechat: BackgroundServer, publication: Publication, *texts: str) -> None:
    for text in texts:
        body = {"msg_data_id": publication.remote_details["msg_data_id"], "content": text}
        httpx.post(f"{wechat.url}/_emulator/comments", json=body).raise_for_status()


def flush_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    owner = client.get(OWNER_KEY)
    client.flushdb()
    if owner:  # keep this test run's claim on its Redis database
        client.set(OWNER_KEY, owner, ex=3600)
    client.close()


async def poll_once(ctx: dict[str, Any], account_id: int) -> int:
    await poll_comments(ctx)
    return await poll_account_comments(ctx, account_id)


async def test_a_redis_flush_between_polls_loses_no_wechat_comment(
    db: Database,
    api: httpx.AsyncClient,
    intake_settings: Settings,
    ctx: dict[str, Any],
    clock: Clock,
    wechat: BackgroundServer,
) -> None:
    # Regression: the articles to poll lived only in a Redis hash; after a flush intake stopped.
    account_id, publication = await wechat_article(db, api, intake_settings, clock, wechat)
    comment_on(wechat, publication, "请问何时实施？", "支持！")
    clock.advance(121)  # the worker's startup tick read the new article; the next read is due
    assert await poll_once(ctx, account_id) == 2

    flush_redis(intake_settings.redis_url)
    comment_on(wechat, publication, "flush 之后的留言", "又一条")
    clock.advance(3600)
    assert await poll_once(ctx, account_id) == 2
    clock.advance(3600)
    assert await poll_once(ctx, account_id) == 0  # read again: nothing twice

    stored = await stored_comments(db)
    assert [c.content for c in stored] == ["请问何时实施？", "支持！", "flush 之后的留言", "又一条"]
    assert len({c.remote_id for c in stored}) == 4
    assert {c.article_id for c in stored} == {publication.article_id}
    async with db.transaction() as session:
        (intake,) = (await session.exec(select(CommentIntake))).all()
    assert intake.publication_id == publication.id and intake.cursor and intake.stopped_at is None


async def test_intake_follows_the_articles_age_stops_and_resumes_on_request(
    db: Database,
    api: httpx.AsyncClient,
    intake_settings: Settings,
    ctx: dict[str, Any],
    clock: Clock,
    wechat: BackgroundServer,
    database_url: str,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account_id, publication = await wechat_article(db, api, intake_settings, clock, wechat)
    assert await poll_once(ctx, account_id) == 0
    comment_on(wechat, publication, "第一天的留言")
    clock.advance(60)  # new article: read every 2 minutes
    assert await poll_comments(ctx) == 0
    clock.advance(61)
    assert await poll_once(ctx, account_id) == 1

    clock.advance(8 * 24 * 3600)  # a week old: read every 6 hours
    await poll_once(ctx, account_id)
    comment_on(wechat, publication, "第八天的留言")
    clock.advance(3600)
    assert await poll_comments(ctx) == 0
    clock.advance(5 * 3600)
    assert await poll_once(ctx, account_id) == 1

    clock.advance(30 * 24 * 3600)  # past comment_intake_stop_days: one last read, then stop
    await poll_once(ctx, account_id)
    comment_on(wechat, publication, "很久以后的留言")
    clock.advance(7 * 24 * 3600)
    assert await poll_comments(ctx) == 0
    assert len(await stored_comments(db)) == 2

    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("SYNDICATOR_REDIS_URL", redis_url)
    get_settings.cache_clear()
    listed = await asyncio.to_thread(CliRunner().invoke, cli_app, ["comments", "intake"])
    assert "stopped" in listed.output
    resumed = await asyncio.to_thread(
        CliRunner().invoke, cli_app, ["comments", "resume", str(publication.article_id)]
    )
    get_settings.cache_clear()
    assert resumed.exit_code == 0, resumed.output
    assert await poll_once(ctx, account_id) == 1
    assert [c.content for c in await stored_comments(db)][-1] == "很久以后的留言"
