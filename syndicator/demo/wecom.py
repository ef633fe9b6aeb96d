"""The demo's WeCom step: one citizen comment moderated from WeCom (企业微信).

The comment is polled from the app, its card goes to the WeCom emulator as a template card, the
moderator 张伟 (WeCom member zhangwei) presses 通过 there — the emulator sends the encrypted
callback to the API, as WeCom does — the worker applies the decision on the app, and the card is
updated for everyone with who decided and that it took effect.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from typing import Any

import httpx
from arq import ArqRedis
from fastapi import FastAPI
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from sqlmodel import select

from channels.http import make_http_client
from channels.wecom.emulator import create_app as create_wecom_emulator
from syndicator import admin
from syndicator.config import Settings, WeComRecipients
from syndicator.db import Database
from syndicator.demo.comments import _first_app_post
from syndicator.models import Comment, utcnow
from syndicator.moderation.polling import poll_soon
from syndicator.moderation.queue import enqueue_poll
from syndicator.wecom.client import build_client
from syndicator.wecom.delivery import deliver_pending

CORP_ID = "wwd3m0c0rp00000001"
AGENT_ID = 1000002
SECRET_ENV, SECRET = "SYNDICATOR_DEMO_WECOM_SECRET", "demo-wecom-secret"
CALLBACK_TOKEN = "demoWeComCallbackToken"
AES_KEY = base64.b64encode(b"syndicator-demo-wecom-aes-key-32").decode().rstrip("=")
MODERATOR, MODERATORS_TAG = "zhangwei", "1"
COMMENT = {"id": "wecom-demo-1", "author": "市民李女士", "content": "请问新政策的申请材料在哪里下载？"}


def emulator() -> FastAPI:
    members = {MODERATOR: {"parties": ["1"], "tags": [MODERATORS_TAG]}}
    return create_wecom_emulator(
        corp_id=CORP_ID,
        secret=SECRET,
        agent_id=AGENT_ID,
        token=CALLBACK_TOKEN,
        aes_key=AES_KEY,
        members=members,
    )


def settings_update(wecom_url: str) -> dict[str, Any]:
    os.environ[SECRET_ENV] = SECRET
    return {
        "chat_frontends": ["wecom"],
        "moderation_chat_id": 0,  # without Telegram the outbox's moderators are chat 0
        "wecom_api_url": wecom_url,
        "wecom_corp_id": CORP_ID,
        "wecom_agent_id": AGENT_ID,
        "wecom_secret_env": SECRET_ENV,
        "wecom_callback_token": SecretStr(CALLBACK_TOKEN),
        "wecom_encoding_aes_key": SecretStr(AES_KEY),
        "wecom_moderators": WeComRecipients(tags=[MODERATORS_TAG]),
    }


async def run_wecom_step(
    db: Database,
    settings: Settings,
    redis: ArqRedis,
    urls: dict[str, str],
    console: Console,
    timeout: float,
) -> bool:
    """`urls`: the API, the WeCom emulator and the app emulator."""
    wecom, app = urls["wecom"], urls["app"]
    async with httpx.AsyncClient(timeout=30) as client:
        callback = f"{urls['api']}/api/v1/chat/wecom/callback"
        (await client.post(f"{wecom}/_emulator/config", json={"callback_url": callback})).raise_for_status()
        verified = (await client.post(f"{wecom}/_emulator/verify_url")).json()["ok"]
        async with db.transaction() as session:
            await admin.add_user(
                session,
                "张伟",
                ["reviewer"],
                telegram_id=None,
                wecom_user=MODERATOR,
                scope=None,
                actor="demo",
            )
        account_id, article = await _first_app_post(db)
        seed = {**COMMENT, "article_id": article}
        (await client.post(f"{app}/_emulator/comments", json=seed)).raise_for_status()
        async with db.transaction() as session:  # read now, not at the feed's next turn
            await poll_soon(session, account_id, utcnow())
        await enqueue_poll(redis, account_id)
        task_id = await _until(lambda: _deliver_and_find(db, settings, client, wecom), timeout)
        if task_id is None:
            return False
        card = (await client.get(f"{wecom}/_emulator/state")).json()["cards"][task_id]
        approve = next(b["key"] for b in card["content"]["button_list"] if b["text"] == "通过")
        press = {"user": MODERATOR, "task_id": task_id, "key": approve}
        (await client.post(f"{wecom}/_emulator/press", json=press)).raise_for_status()
        await _until(lambda: _applied(db), timeout)
        card = await _until(lambda: _updated_card(db, settings, client, wecom, task_id), timeout)
        public = (await client.get(f"{app}/v1/articles/{article}/comments")).json()["comments"]
    shown = any(c["id"] == COMMENT["id"] for c in public)
    _print(console, verified, card or {}, shown)
    return verified and shown and card is not None


async def _deliver(db: Database, settings: Settings) -> None:
    async with make_http_client(settings.channel_timeout_seconds) as http:
        await deliver_pending(db, build_client(settings, http, None), settings)


async def _deliver_and_find(
    db: Database, settings: Settings, client: httpx.AsyncClient, wecom: str
) -> str | None:
    await _deliver(db, settings)
    cards = (await client.get(f"{wecom}/_emulator/state")).json()["cards"]
    return next(
        (t for t, c in cards.items() if COMMENT["content"] in c["content"]["quote_area"]["quote_text"]), None
    )


async def _applied(db: Database) -> bool | None:
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment).where(Comment.remote_id == COMMENT["id"]))).first()
    return True if comment is not None and comment.apply_state == "applied" else None


async def _updated_card(
    db: Database, settings: Settings, client: httpx.AsyncClient, wecom: str, task_id: str
) -> dict[str, Any] | None:
    await _deliver(db, settings)
    card: dict[str, Any] = (await client.get(f"{wecom}/_emulator/state")).json()["cards"][task_id]
    return card if "平台：已生效" in card["content"]["sub_title_text"] else None


async def _until(probe: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while (found := await probe()) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return found


def _print(console: Console, verified: bool, card: dict[str, Any], shown: bool) -> None:
    content = card.get("content", {})
    lines = [
        line for line in content.get("sub_title_text", "").splitlines() if line.startswith(("状态", "平台"))
    ]
    table = Table(title="One comment moderated from WeCom (企业微信)")
    for column in ("callback URL verified", "WeCom card", "card after the press", "public in the app"):
        table.add_column(column)
    title = content.get("main_title", {}).get("title", "-")
    table.add_row(
        "yes" if verified else "no",
        f"{title} to {len(card.get('recipients', []))} moderator(s)",
        " / ".join(lines) or "-",
        "yes" if shown else "no",
    )
    console.print(table)
    console.print(f"WeCom card after the press: {' / '.join(lines) or '-'}", soft_wrap=True)
