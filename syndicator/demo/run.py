"""`syndicator demo`: the real pipeline on the shipped corpus, against the channel emulators.

Everything runs in this process: the emulators and the API on loopback ports, one arq worker on
the configured Redis (on a queue of its own), a throw-away SQLite database. Articles go in as
signed webhooks, exactly as a portal would send them.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import SecretStr
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table
from sqlmodel import col, select
from starlette.types import ASGIApp

from channels.app.emulator import create_app as create_app_emulator
from channels.wechat.emulator import create_app as create_wechat_emulator
from channels.weibo.emulator import create_app as create_weibo_emulator
from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database, open_database
from syndicator.demo import obligations as demo_obligations
from syndicator.demo import wecom as demo_wecom
from syndicator.demo.comments import run_comment_step
from syndicator.ingest.app import create_app
from syndicator.migrate import upgrade
from syndicator.models import Article, ChannelAccount, Publication
from syndicator.pipeline.policy import TERMINAL_STATES
from syndicator.queue import connect, redis_client
from syndicator.signing import signed_headers
from syndicator.worker import PipelineWorker, worker_settings

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
DEMO_REDIS_DB = 8
# Everything the pipeline writes to Redis: arq's jobs and locks, our caches (syn:), the demo queue.
DEMO_KEY_PATTERNS = ("arq:*", "syn:*", "syndicator:demo*")
DEMO_INGEST_SECRET = "demo-ingest-secret"


@dataclass(frozen=True)
class DemoChannel:
    platform: str
    emulator: Callable[[], ASGIApp]
    secret_env: str
    secret: str
    account_options: dict[str, str] = field(default_factory=dict)


DEMO_WECHAT_APP_ID = "wxd3m0d3m0d3m0d3m0"
CHANNELS = [
    DemoChannel(
        "app", lambda: create_app_emulator("demo-app-secret"), "SYNDICATOR_DEMO_APP_SECRET", "demo-app-secret"
    ),
    DemoChannel(
        "wechat",
        lambda: create_wechat_emulator(
            app_id=DEMO_WECHAT_APP_ID, app_secret="demo-wechat-secret", publish_delay_seconds=0.3
        ),
        "SYNDICATOR_DEMO_WECHAT_SECRET",
        "demo-wechat-secret",
        # Most portal documents carry no image, and WeChat requires a cover.
        {"app_id": DEMO_WECHAT_APP_ID, "default_cover": str(Path(__file__).resolve().parent / "cover.png")},
    ),
    DemoChannel(
        "weibo",
        lambda: create_weibo_emulator(access_token="demo-weibo-token", safe_domains=("gov.cn",)),
        "SYNDICATOR_DEMO_WEIBO_TOKEN",
        "demo-weibo-token",
    ),
]


async def run_demo(base: Settings, *, corpus_dir: Path | None, timeout: float) -> bool:
    console = Console()
    articles = [
        json.loads(p.read_text())
        for p in sorted((corpus_dir or CORPUS_DIR / "portal-articles").glob("*.json"))
    ]
    workdir = Path(tempfile.mkdtemp(prefix="syndicator-demo-"))
    settings = base.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{workdir / 'demo.db'}",
            "redis_url": demo_redis_url(base),
            "ingest_secret": SecretStr(DEMO_INGEST_SECRET),
            "queue_name": "syndicator:demo",
            "stuck_after_seconds": 10,
            "async_publish_poll_seconds": 0.3,
        }
    )
    if not await _clean_redis(settings, console):
        return False
    await asyncio.to_thread(upgrade, settings.database_url)  # alembic runs its own event loop
    servers = {c.platform: BackgroundServer(c.emulator()).start() for c in CHANNELS}
    wecom = BackgroundServer(demo_wecom.emulator()).start()  # the moderators' chat
    settings = settings.model_copy(update=demo_wecom.settings_update(wecom.url))
    api = BackgroundServer(create_app(settings)).start()
    db = open_database(settings.database_url)
    worker = PipelineWorker(**{**worker_settings(settings), "handle_signals": False})
    worker_task = asyncio.create_task(worker.main())
    try:
        await _seed(db, articles, servers)
        console.print(
            f"[bold]Syndicator demo[/]: {len(articles)} articles -> {', '.join(servers)} "
            f"(emulators on loopback, API at {api.url})"
        )
        await _deliver(api.url, articles)
        await _wait(db, timeout, console)
        steps = {"publish": await _summarise(db, console)}
        steps["obligations"] = await _obligations(db, api.url, articles, timeout, console)
        steps["moderation"] = await _comments(db, settings, servers["app"].url, timeout, console)
        urls = {"api": api.url, "wecom": wecom.url, "app": servers["app"].url}
        steps["wecom"] = await _wecom(db, settings, urls, timeout, console)
        if failed := [name for name, ok in steps.items() if not ok]:
            console.print(f"[red]demo failed[/]: {', '.join(failed)}")
        return not failed
    finally:
        worker_task.cancel()
        await worker.close()
        await db.dispose()
        api.stop()
        wecom.stop()
        for server in servers.values():
            server.stop()
        await _clean_redis(settings, console)  # the next run starts from the same nothing


async def _obligations(
    db: Database, api_url: str, articles: list[dict[str, Any]], timeout: float, console: Console
) -> bool:
    """An upstream item opens 12-hour repost obligations; one unit reposts in time, the others do not."""
    reposting = articles[-1]
    console.print(
        f"\n[bold]Repost obligations[/]: 中国政府网 publishes {demo_obligations.DOC_NUMBER}; "
        f"{reposting['unit']} reposts it at once, nobody else does."
    )
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        await demo_obligations.open_upstream_item(db, client, DEMO_INGEST_SECRET)
        await demo_obligations.repost(
            client, DEMO_INGEST_SECRET, reposting["unit"], reposting["source_portal"]
        )
    await _wait(db, timeout, console)
    return await demo_obligations.print_report(db, console, reposting_accounts=len(CHANNELS))


async def _comments(db: Database, settings: Settings, app_url: str, timeout: float, console: Console) -> bool:
    console.print(
        "\n[bold]Comment moderation[/]: citizens comment in the app; a moderator approves (scripted)."
    )
    redis = await connect(settings.redis_url, settings.queue_name)
    try:
        return await run_comment_step(db, redis, app_url, console, timeout)
    finally:
        await redis.aclose()


def demo_redis_url(settings: Settings) -> str:
    """SYNDICATOR_DEMO_REDIS_URL, else database 8 of the configured Redis server: never the
    installation's own database (arq's job keys ignore the queue name)."""
    if settings.demo_redis_url:
        return settings.demo_redis_url
    parts = urlsplit(settings.redis_url)
    return urlunsplit(parts._replace(path=f"/{DEMO_REDIS_DB}"))


async def _wecom(
    db: Database, settings: Settings, urls: dict[str, str], timeout: float, console: Console
) -> bool:
    console.print("\n[bold]Moderation from WeCom (企业微信)[/]: a moderator presses 通过 on the WeCom card.")
    redis = await connect(settings.redis_url, settings.queue_name)
    try:
        return await demo_wecom.run_wecom_step(db, settings, redis, urls, console, timeout)
    finally:
        await redis.aclose()


async def _clean_redis(settings: Settings, console: Console) -> bool:
    """Remove what a demo leaves in its Redis database (jobs, caches, locks); False when unreachable."""
    client = redis_client(settings.redis_url)
    try:
        for pattern in DEMO_KEY_PATTERNS:
            async for key in client.scan_iter(match=pattern, count=500):
                await client.delete(key)
        await client.delete(settings.queue_name)
        return True
    except (RedisError, OSError):
        console.print(
            f"[red]Redis is not reachable at {settings.redis_url}[/]; start it with "
            "`redis-server --daemonize yes` or set SYNDICATOR_REDIS_URL / SYNDICATOR_DEMO_REDIS_URL"
        )
        return False
    finally:
        await client.aclose()


async def _seed(db: Database, articles: list[dict[str, Any]], servers: dict[str, BackgroundServer]) -> None:
    async with db.transaction() as session:
        for channel in CHANNELS:
            os.environ[channel.secret_env] = channel.secret
        for unit in sorted({a["unit"] for a in articles}):
            level = next(a["unit_level"] for a in articles if a["unit"] == unit)
            await admin.add_unit(session, unit, level, None, actor="demo")
            portal = next(a["source_portal"] for a in articles if a["unit"] == unit)
            for channel in CHANNELS:
                await admin.add_account(
                    session,
                    unit=unit,
                    platform=channel.platform,
                    name=f"{unit}-{channel.platform}",
                    api_base_url=servers[channel.platform].url,
                    secret_env=channel.secret_env,
                    actor="demo",
                    **{"safe_domain": portal, **channel.account_options},
                )


async def _deliver(api_url: str, articles: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        for article in articles:
            body = json.dumps(article, ensure_ascii=False).encode()
            signature = signed_headers(DEMO_INGEST_SECRET, "POST", "/api/v1/articles", body)
            headers = {"Content-Type": "application/json", **signature}
            response = await client.post("/api/v1/articles", content=body, headers=headers)
            response.raise_for_status()


async def _wait(db: Database, timeout: float, console: Console) -> None:
    deadline = time.monotonic() + timeout
    with console.status("publishing...") as status:
        while time.monotonic() < deadline:
            async with db.transaction() as session:
                states = (await session.exec(select(Publication.state))).all()
            done = sum(1 for s in states if s in TERMINAL_STATES)
            status.update(f"publishing... {done}/{len(states)} done")
            if states and done == len(states):
                return
            await asyncio.sleep(0.1)
    console.print(f"[yellow]timed out after {timeout:.0f} s[/]")


async def _summarise(db: Database, console: Console) -> bool:
    async with db.transaction() as session:
        rows = (
            await session.exec(
                select(Article, Publication, ChannelAccount)
                .join(Publication, col(Publication.article_id) == col(Article.id))
                .join(ChannelAccount, col(ChannelAccount.id) == col(Publication.account_id))
                .order_by(col(Article.id), col(ChannelAccount.platform))
            )
        ).all()
    table = Table(title="What reached each channel")
    for column in ("article", "channel", "state", "remote id", "took"):
        table.add_column(column)
    for article, publication, account in rows:
        took = (
            (publication.published_at - article.created_at).total_seconds()
            if publication.published_at
            else None
        )
        table.add_row(
            article.title[:30] + ("…" if len(article.title) > 30 else ""),
            account.platform,
            publication.state,
            publication.remote_id or publication.error_message or "",
            f"{took * 1000:.0f} ms" if took is not None else "-",
        )
    console.print(table)
    published = sum(1 for _, p, _ in rows if p.state == "published")
    articles = len({a.id for a, _, _ in rows})
    console.print(f"{published}/{len(rows)} publications published for {articles} articles")
    return bool(rows) and published == len(rows)
