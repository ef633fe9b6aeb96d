"""`syndicator demo`: the real pipeline on the shipped corpus, against the channel emulators.

Everything runs in this process: the emulators and the API on loopback ports, one arq worker on
the configured Redis (on a queue of its own), a throw-away SQLite database. Articles go in as
signed webhooks, exactly as a portal would send them.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import SecretStr
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table
from sqlmodel import col, select

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database, open_database
from syndicator.demo import obligations as demo_obligations
from syndicator.demo import stack
from syndicator.demo import wecom as demo_wecom
from syndicator.demo.comments import run_comment_step
from syndicator.migrate import upgrade
from syndicator.models import Article, ChannelAccount, Publication
from syndicator.pipeline.policy import TERMINAL_STATES
from syndicator.queue import connect, redis_client
from syndicator.worker import PipelineWorker, worker_settings

DEMO_REDIS_DB = 8
# Everything the pipeline writes to Redis: arq's jobs and locks, our caches (syn:), the demo queue.
DEMO_KEY_PATTERNS = ("arq:*", "syn:*", "syndicator:demo*")
DEMO = stack.Credentials(
    ingest_secret="demo-ingest-secret",
    wechat_app_id="wxd3m0d3m0d3m0d3m0",
    secrets={
        "app": ("SYNDICATOR_DEMO_APP_SECRET", "demo-app-secret"),
        "wechat": ("SYNDICATOR_DEMO_WECHAT_SECRET", "demo-wechat-secret"),
        "weibo": ("SYNDICATOR_DEMO_WEIBO_TOKEN", "demo-weibo-token"),
    },
)


async def run_demo(base: Settings, *, corpus_dir: Path | None, timeout: float) -> bool:
    console = Console()
    articles = stack.corpus(corpus_dir or stack.CORPUS_DIR)
    workdir = Path(tempfile.mkdtemp(prefix="syndicator-demo-"))
    settings = base.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{workdir / 'demo.db'}",
            "redis_url": demo_redis_url(base),
            "ingest_secret": SecretStr(DEMO.ingest_secret),
            "queue_name": "syndicator:demo",
            "stuck_after_seconds": 10,
            "async_publish_poll_seconds": 0.3,
        }
    )
    if not await _clean_redis(settings, console):
        return False
    await asyncio.to_thread(upgrade, settings.database_url)  # alembic runs its own event loop
    emulators = stack.start_emulators(DEMO, stack.EmulatorOptions())
    wecom = BackgroundServer(demo_wecom.emulator()).start()  # the moderators' chat
    settings = settings.model_copy(update=demo_wecom.settings_update(wecom.url))
    api = BackgroundServer(create_app(settings)).start()
    db = open_database(settings.database_url)
    worker = PipelineWorker(**{**worker_settings(settings), "handle_signals": False})
    worker_task = asyncio.create_task(worker.main())
    try:
        os.environ.update(DEMO.environ())  # the worker reads account secrets from their variables
        await stack.seed_accounts(db, stack.units_of(articles), emulators.urls(), DEMO, actor="demo")
        console.print(
            f"[bold]Syndicator demo[/]: {len(articles)} articles -> {', '.join(emulators.servers)} "
            f"(emulators on loopback, API at {api.url})"
        )
        for response in await stack.deliver(api.url, articles, DEMO.ingest_secret, concurrency=1):
            response.raise_for_status()
        await _wait(db, timeout, console)
        steps = {"publish": await _summarise(db, console)}
        steps["obligations"] = await _obligations(db, api.url, articles, timeout, console)
        steps["moderation"] = await _comments(db, settings, emulators.url("app"), timeout, console)
        urls = {"api": api.url, "wecom": wecom.url, "app": emulators.url("app")}
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
        emulators.stop()
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
        await demo_obligations.open_upstream_item(db, client, DEMO.ingest_secret)
        await demo_obligations.repost(
            client, DEMO.ingest_secret, reposting["unit"], reposting["source_portal"]
        )
    await _wait(db, timeout, console)
    return await demo_obligations.print_report(db, console, reposting_accounts=len(stack.PLATFORMS))


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


async def _wait(db: Database, timeout: float, console: Console) -> None:
    deadline = time.monotonic() + timeout
    with console.status("publishing...") as status:
        while time.monotonic() < deadline:
            states = await stack.publication_states(db.engine)
            done = sum(n for state, n in states.items() if state in TERMINAL_STATES)
            status.update(f"publishing... {done}/{states.total()} done")
            if stack.settled(states, expected=1):
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
