"""Fixtures for the WeCom front end: the WeCom emulator over HTTP, the API receiving its callbacks,
settings choosing WeCom, and the moderation world (app account, article, reviewers alice and bob)
with alice and bob mapped to the WeCom members wang and li."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlmodel import select

from channels.http import make_http_client
from channels.wecom.emulator import create_app as create_wecom_emulator
from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings, WeComRecipients
from syndicator.db import Database
from syndicator.models import User
from syndicator.wecom.client import build_client
from syndicator.wecom.delivery import deliver_pending
from tests.moderation import conftest as moderation
from tests.moderation.conftest import World

# The moderation suite's fixtures: the app world (account, article, reviewers) and the fake Telegram.
world, telegram, mod_settings = moderation.world, moderation.telegram, moderation.mod_settings

CORP_ID = "ww5f0c1a2b3c4d5e6f"
AGENT_ID = 1000002
SECRET = "wecom-app-secret-for-tests"
SECRET_ENV = "SYNDICATOR_TEST_WECOM_SECRET"
CALLBACK_TOKEN = "wecomCallbackToken"
AES_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode().rstrip("=")  # 43 characters
MODERATORS_TAG = "1"
OFFICERS_TAG = "2"
# wang and li are the reviewers alice and bob; zhao is in the moderators' tag but no reviewer; qian
# is an officer.
MEMBERS = {
    "wang": {"parties": ["2"], "tags": [MODERATORS_TAG]},
    "li": {"parties": ["2"], "tags": [MODERATORS_TAG]},
    "zhao": {"parties": ["2"], "tags": [MODERATORS_TAG]},
    "qian": {"parties": ["3"], "tags": [OFFICERS_TAG]},
}
T = TypeVar("T")


@pytest.fixture
def wecom() -> Iterator[BackgroundServer]:
    app = create_wecom_emulator(
        corp_id=CORP_ID,
        secret=SECRET,
        agent_id=AGENT_ID,
        token=CALLBACK_TOKEN,
        aes_key=AES_KEY,
        members=MEMBERS,
    )
    with BackgroundServer(app) as server:
        yield server


@pytest.fixture
def wecom_settings(settings: Settings, wecom: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return with_wecom(settings, wecom.url)


def with_wecom(settings: Settings, wecom_url: str, **update: Any) -> Settings:
    return settings.model_copy(
        update={
            "chat_frontends": ["wecom"],
            "moderation_chat_id": 0,  # what Settings sets when WeCom is the only front end
            "wecom_api_url": wecom_url,
            "wecom_corp_id": CORP_ID,
            "wecom_agent_id": AGENT_ID,
            "wecom_secret_env": SECRET_ENV,
            "wecom_callback_token": SecretStr(CALLBACK_TOKEN),
            "wecom_encoding_aes_key": SecretStr(AES_KEY),
            "wecom_moderators": WeComRecipients(tags=[MODERATORS_TAG]),
            "channel_timeout_seconds": 10.0,
            "comment_feed_poll_seconds": 0,  # every poll_comments tick reads the app's feed again
            **update,
        }
    )


@pytest.fixture
async def wecom_world(world: World, db: Database) -> World:
    async with db.transaction() as session:
        for name, member in (("alice", "wang"), ("bob", "li")):
            user = (await session.exec(select(User).where(User.name == name))).one()
            user.wecom_user = member
            session.add(user)
        session.add(User(name="qian", roles="officer", wecom_user="qian"))
    return world


@pytest.fixture
async def callback_api(wecom_settings: Settings, wecom: BackgroundServer) -> AsyncIterator[str]:
    """The real API on loopback, set as the WeCom application's callback URL."""
    with BackgroundServer(create_app(wecom_settings)) as server:
        httpx.post(
            f"{wecom.url}/_emulator/config", json={"callback_url": f"{server.url}/api/v1/chat/wecom/callback"}
        ).raise_for_status()
        yield server.url


async def deliver(settings: Settings, db: Database, *, now: datetime | None = None) -> int:
    """One pass of the WeCom outbox sender, as `syndicator bot` runs it."""
    redis = Redis.from_url(settings.redis_url)
    try:
        async with make_http_client(settings.channel_timeout_seconds) as http:
            return await deliver_pending(db, build_client(settings, http, redis), settings, now=now)
    finally:
        await redis.aclose()


def state(wecom_url: str) -> dict[str, Any]:
    return httpx.get(f"{wecom_url}/_emulator/state").json()  # type: ignore[no-any-return]


def only_card(wecom_url: str) -> tuple[str, dict[str, Any]]:
    ((task_id, card),) = state(wecom_url)["cards"].items()
    return task_id, card


def buttons(card: dict[str, Any]) -> dict[str, str]:
    return {b["text"]: b["key"] for b in card["content"]["button_list"]}


def press(wecom_url: str, user: str, task_id: str, key: str) -> dict[str, Any]:
    response = httpx.post(
        f"{wecom_url}/_emulator/press", json={"user": user, "task_id": task_id, "key": key}, timeout=30
    )
    return response.json()  # type: ignore[no-any-return]


def write(wecom_url: str, user: str, content: str) -> dict[str, Any]:
    response = httpx.post(f"{wecom_url}/_emulator/text", json={"user": user, "content": content}, timeout=30)
    return response.json()  # type: ignore[no-any-return]


def texts_to(wecom_url: str, user: str) -> list[str]:
    return [m["text"] for m in state(wecom_url)["messages"] if m["type"] == "text" and user in m["to"]]


async def eventually(probe: Callable[[], T | None], *, what: str, timeout: float = 10.0) -> T:
    """Wait for something another thread does (a direct message goes out after the callback answer)."""
    deadline = time.monotonic() + timeout
    while (found := probe()) is None or found is False:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return found
