"""Fixtures for moderation: a fake Telegram over HTTP, a unit with an app account on the app
emulator, reviewers with Telegram ids, a published article the comments belong to, a burst
worker running the moderation jobs, and the bot long-polling the fake server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiogram import Bot, Dispatcher
from arq import Worker, func
from arq.connections import RedisSettings
from pydantic import SecretStr

from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.bot.app import build_dispatcher, fsm_storage
from syndicator.bot.client import build_bot
from syndicator.bot.delivery import deliver_notifications
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import Article, Publication, PublicationState, User
from syndicator.moderation.jobs import FUNCTIONS
from syndicator.queue import connect
from syndicator.workdays import WorkCalendar
from syndicator.worker import shutdown, startup
from tests.conftest import APP_SECRET_ENV
from tests.fake_telegram import FakeTelegram, tg_user
from tests.support import version_of

TOKEN = "123456:TEST-TOKEN"
CHAT = -1001234
ALICE = tg_user(1001, "审核员甲", "alice_mod")
BOB = tg_user(1002, "审核员乙", "bob_mod")
CAROL = tg_user(1003, "编辑丙", "carol_ed")  # an editor, not a reviewer
MALLORY = tg_user(6666, "路人")  # nobody registered
ARTICLE_REMOTE_ID = "app-article-1"
ARTICLE_TITLE = "关于进一步优化营商环境的若干措施"
ACCOUNT = "示范市人民政府-app"


@dataclass
class World:
    account_id: int
    alice: User
    bob: User
    app_url: str


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
def mod_settings(settings: Settings, telegram: FakeTelegram) -> Settings:
    return settings.model_copy(
        update={
            "telegram_token": SecretStr(TOKEN),
            "telegram_api_url": telegram.url,
            "moderation_chat_id": CHAT,
            "channel_timeout_seconds": 10.0,  # a loaded machine must not turn a poll into a failure
            "comment_feed_poll_seconds": 0,  # every poll_comments tick reads the feed again
        }
    )


@pytest.fixture
async def world(db: Database, app_emulator: BackgroundServer) -> World:
    async with db.transaction() as session:
        unit = await admin.add_unit(session, "示范市人民政府", "city", None, actor="test")
        account = await admin.add_account(
            session,
            unit=unit.name,
            platform="app",
            name=ACCOUNT,
            api_base_url=app_emulator.url,
            secret_env=APP_SECRET_ENV,
            actor="test",
        )
        alice = await admin.add_user(
            session, "alice", ["reviewer"], telegram_id=ALICE["id"], scope=None, actor="t"
        )
        bob = await admin.add_user(session, "bob", ["reviewer"], telegram_id=BOB["id"], scope=None, actor="t")
        await admin.add_user(session, "carol", ["editor"], telegram_id=CAROL["id"], scope=None, actor="t")
        assert unit.id is not None and account.id is not None
        article = Article(
            source_portal="portal", external_id="a1", unit_id=unit.id, title=ARTICLE_TITLE, url="u"
        )
        session.add(article)
        await session.flush()
        assert article.id is not None
        version = version_of(article)
        session.add(version)
        await session.flush()
        assert version.id is not None
        session.add(
            Publication(
                article_id=article.id,
                version_id=version.id,
                account_id=account.id,
                state=PublicationState.PUBLISHED,
                remote_id=ARTICLE_REMOTE_ID,
            )
        )
        return World(account_id=account.id, alice=alice, bob=bob, app_url=app_emulator.url)


def seed_comment(
    app_url: str, content: str, *, comment_id: str | None = None, author: str = "市民王先生"
) -> str:
    body: dict[str, Any] = {"article_id": ARTICLE_REMOTE_ID, "author": author, "content": content}
    if comment_id:
        body["id"] = comment_id
    response = httpx.post(f"{app_url}/_emulator/comments", json=body)
    response.raise_for_status()
    return str(response.json()["id"])


def public_comments(app_url: str) -> list[dict[str, Any]]:
    return httpx.get(f"{app_url}/v1/articles/{ARTICLE_REMOTE_ID}/comments").json()["comments"]  # type: ignore[no-any-return]


async def run_jobs(settings: Settings, *jobs: str | tuple[Any, ...], **ctx: Any) -> Worker:
    """Enqueue `jobs` (a name, or (name, *args)) and run a burst worker until the queue is empty."""
    redis = await connect(settings.redis_url, settings.queue_name)
    try:
        for job in jobs:
            name, *args = (job,) if isinstance(job, str) else job
            await redis.enqueue_job(name, *args)
    finally:
        await redis.aclose()
    worker = Worker(
        functions=[*FUNCTIONS, func(deliver_notifications, keep_result=0)],
        on_startup=startup,
        on_shutdown=shutdown,
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        queue_name=settings.queue_name,
        ctx={"settings": settings, **ctx},
        burst=True,
        poll_delay=0,
        handle_signals=False,
        keep_result=0,
    )
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker


@asynccontextmanager
async def polling_bot(settings: Settings, db: Database) -> AsyncIterator[Dispatcher]:
    """The bot long-polling the fake Bot API over HTTP, as `syndicator bot` runs it."""
    bot: Bot = build_bot(settings)
    storage = fsm_storage(settings)
    redis = await connect(settings.redis_url, settings.queue_name)
    dp = build_dispatcher(db=db, storage=storage, redis=redis, calendar=WorkCalendar())
    task = asyncio.create_task(
        dp.start_polling(
            bot, handle_signals=False, polling_timeout=1, allowed_updates=dp.resolve_used_update_types()
        )
    )
    try:
        yield dp
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, timeout=10)
        await storage.close()
        await redis.aclose()
