"""Comment intake throughput per worker: pull from the app emulator, screen, dedupe, store.

    .venv/bin/python benchmarks/comments.py [--comments 20000]

In one run: (1) the raw emulator listing, paged with aiohttp (the ceiling: nothing but HTTP and
JSON), (2) the real poll job (`poll_account_comments`: adapter -> screening -> dedupe -> SQLite
rows + card outbox rows, cursor committed per page), (3) the same comments polled again from the
start (all duplicates). Prints comments/s for each and the ratio pipeline / raw listing.
Goal: >= 5,000 comments/s screened and stored. A benchmark, not a test: numbers vary by machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import structlog
from sqlalchemy import delete

from channels.app.emulator import create_app as create_app_emulator
from channels.http import make_http_client
from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import open_database
from syndicator.migrate import upgrade
from syndicator.models import CommentCursor
from syndicator.moderation.jobs import poll_account_comments
from syndicator.pipeline.context import PipelineDeps

SECRET_ENV = "SYNDICATOR_BENCH_APP_SECRET"
SECRET = "bench-secret"
GOAL = 5_000
TEXTS = (
    "这项政策很好，希望尽快落实到基层。",
    "请问补贴申请需要哪些材料？我的电话13812345678",
    "办事大厅排队时间太长了，建议增加窗口。",
    "加微信 bet365vip 领取彩金",  # spam: auto-rejected
    "感谢政府的关心！身份证110101199003074514 的材料已提交",
    "文章第三条的时间写错了吧？",
)


class NoQueue:
    """Stands in for arq's Redis: the benchmark measures intake, not queueing apply jobs."""

    async def enqueue_job(self, *args: Any, **kwargs: Any) -> None:
        return None


def seed(emulator: Any, count: int) -> None:
    state = emulator.state.backend
    now = datetime.now(UTC).isoformat()
    for i, text in zip(range(count), itertools.cycle(TEXTS), strict=False):
        comment_id = f"c-{i + 1}"
        state.comments[comment_id] = {
            "id": comment_id,
            "article_id": f"app-{i % 50}",
            "author": f"市民{i % 997}",
            "content": f"{text}（{i}）",
            "created_at": now,
            "status": "pending",
            "seq": next(state._comment_seq),
        }


async def raw_listing(base_url: str) -> int:
    seen, cursor = 0, "0"
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.get(f"{base_url}/v1/comments", params={"since": cursor}) as response:
                data = await response.json()
            if not data["comments"]:
                return seen
            seen += len(data["comments"])
            cursor = data["next_cursor"]


async def poll_all(ctx: dict[str, Any], account_id: int) -> int:
    """One job run reads at most MAX_PAGES_PER_RUN pages; run it until nothing new arrives."""
    stored = 0
    while batch := await poll_account_comments(ctx, account_id):
        stored += batch
    return stored


async def poll_until_done(ctx: dict[str, Any], account_id: int, db: Any) -> None:
    """Keep polling until the cursor stops moving (duplicates store nothing, so count cursor moves)."""
    previous = object()
    while True:
        await poll_account_comments(ctx, account_id)
        async with db.transaction() as session:
            cursor = (await session.get(CommentCursor, account_id)).cursor
        if cursor == previous:
            return
        previous = cursor


async def run(count: int, url: str) -> None:
    emulator = create_app_emulator(SECRET)
    seed(emulator, count)
    with BackgroundServer(emulator) as server:
        started = time.perf_counter()
        listed = await raw_listing(server.url)
        raw_seconds = time.perf_counter() - started

        settings = Settings(database_url=url, moderation_chat_id=-1)
        db = open_database(url)
        async with db.transaction() as session:
            await admin.add_unit(session, "基准单位", "city", None, actor="bench")
            account = await admin.add_account(
                session,
                unit="基准单位",
                platform="app",
                name="基准-app",
                api_base_url=server.url,
                secret_env=SECRET_ENV,
                actor="bench",
            )
        assert account.id is not None
        deps = PipelineDeps(settings=settings, db=db, redis=NoQueue(), http=make_http_client(30))  # type: ignore[arg-type]
        ctx: dict[str, Any] = {"deps": deps}

        started = time.perf_counter()
        stored = await poll_all(ctx, account.id)
        ingest_seconds = time.perf_counter() - started

        async with db.transaction() as session:
            await session.exec(delete(CommentCursor))  # type: ignore[call-overload]
        started = time.perf_counter()
        await poll_until_done(ctx, account.id, db)
        dedupe_seconds = time.perf_counter() - started
        await deps.aclose()

    raw_rate, ingest_rate = listed / raw_seconds, stored / ingest_seconds
    print(f"comments seeded                      {count}")
    print(f"raw emulator listing (aiohttp)       {raw_rate:10,.0f} comments/s  ({raw_seconds:.2f} s)")
    print(f"poll + screen + dedupe + store       {ingest_rate:10,.0f} comments/s  ({ingest_seconds:.2f} s)")
    print(f"re-poll, all duplicates              {count / dedupe_seconds:10,.0f} comments/s")
    print(f"ratio pipeline / raw listing         {ingest_rate / raw_rate:10.2f}")
    print(f"goal >= {GOAL:,} comments/s stored      {'met' if ingest_rate >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=20_000)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # errors only
    os.environ[SECRET_ENV] = SECRET
    database_url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='syndicator-bench-')) / 'bench.db'}"
    upgrade(database_url)
    asyncio.run(run(parser.parse_args().comments, database_url))
