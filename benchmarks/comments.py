"""Comment intake throughput per worker: pull from the app emulator, screen, dedupe, store.

    .venv/bin/python benchmarks/comments.py [--comments 20000] [--database-url URL] [--redis-url URL]

In one run: (1) the raw emulator listing, paged with aiohttp (the ceiling: nothing but HTTP and
JSON), (2) the real poll job (`poll_account_comments`: adapter and quota -> screening -> dedupe
-> comment rows + card outbox rows, the intake cursor committed per page), (3) the same comments
polled again from the start (all duplicates). Prints comments/s for each and the ratio pipeline /
raw listing. Goal: >= 5,000 comments/s screened and stored on PostgreSQL, e.g.
`--database-url postgresql+asyncpg://postgres@127.0.0.1/bench_comments` (the database is emptied).
A benchmark, not a test: numbers vary by machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import structlog
from arq.constants import job_key_prefix
from sqlalchemy import text as sql
from sqlalchemy import update
from sqlmodel import SQLModel, select

from channels.app.adapter import COMMENT_PAGE
from channels.app.emulator import create_app as create_app_emulator
from channels.http import make_http_client
from syndicator import admin
from syndicator.config import Settings
from syndicator.context import WorkerContext
from syndicator.db import open_database
from syndicator.migrate import upgrade
from syndicator.models import CommentIntake
from syndicator.moderation.jobs import poll_account_comments, poll_comments
from syndicator.queue import connect

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


QUEUE = f"syndicator:bench-comments:{os.getpid()}"  # no worker takes the apply jobs queued here


def seeded_emulator() -> Any:
    """The app emulator holding BENCH_COMMENTS pending comments (uvicorn --factory, own process)."""
    emulator = create_app_emulator(SECRET)
    state = emulator.state.backend
    for i, text in zip(range(int(os.environ["BENCH_COMMENTS"])), itertools.cycle(TEXTS), strict=False):
        state.add_comment(f"c-{i + 1}", f"app-{i % 50}", f"市民{i % 997}", f"{text}（{i}）")
    return emulator


@contextmanager
def emulator_process(count: int) -> Iterator[str]:
    """The platform runs in its own process, as it would: the worker's CPU is the worker's."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.comments:seeded_emulator"]
    command += ["--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env={**os.environ, "BENCH_COMMENTS": str(count)})
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=1) as client:  # one client: an SSL context per try costs 100 ms
            for _ in range(600):
                try:
                    client.get(f"{url}/v1/comments", params={"limit": 1})
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def raw_listing(base_url: str) -> int:
    seen, cursor = 0, "0"
    async with aiohttp.ClientSession() as session:
        while True:
            params: dict[str, str | int] = {"since": cursor, "limit": COMMENT_PAGE}
            async with session.get(f"{base_url}/v1/comments", params=params) as response:
                data = await response.json()
            if not data["comments"]:
                return seen
            seen += len(data["comments"])
            cursor = data["next_cursor"]


async def make_due(db: Any, *, cursor: bool) -> None:
    """The feed is due now (the cadence would wait); `cursor=False` also reads from the start."""
    values: dict[str, Any] = {"next_poll_at": datetime(2000, 1, 1, tzinfo=UTC)}
    if not cursor:
        values["cursor"] = None
    async with db.transaction() as session:
        await session.exec(update(CommentIntake).values(**values))


async def poll_all(ctx: dict[str, Any], account_id: int, db: Any) -> int:
    """One job run reads at most MAX_PAGES_PER_RUN pages; run it until nothing new arrives."""
    stored = 0
    while True:
        await make_due(db, cursor=True)
        if not (batch := await poll_account_comments(ctx, account_id)):
            return stored
        stored += batch


async def poll_until_done(ctx: dict[str, Any], account_id: int, db: Any) -> None:
    """Keep polling until the cursor stops moving (duplicates store nothing, so watch the cursor)."""
    previous = object()
    while True:
        await make_due(db, cursor=True)
        await poll_account_comments(ctx, account_id)
        async with db.transaction() as session:
            cursor = (await session.exec(select(CommentIntake.cursor))).one()
        if cursor == previous:
            return
        previous = cursor


async def drop_queue(redis: Any) -> None:
    """The jobs this run queued (no worker takes them: their keys would stay for a day) and the queue."""
    job_ids = await redis.zrange(QUEUE, 0, -1)
    if job_ids:
        await redis.delete(*(job_key_prefix + job_id.decode() for job_id in job_ids))
    await redis.delete(QUEUE)


async def empty(db: Any) -> None:
    async with db.transaction() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await session.exec(sql(f'DELETE FROM "{table.name}"'))


async def run(count: int, url: str, redis_url: str) -> None:
    load_before = os.getloadavg()[0]
    with emulator_process(count) as emulator_url:
        started = time.perf_counter()
        listed = await raw_listing(emulator_url)
        raw_seconds = time.perf_counter() - started

        settings = Settings(database_url=url, redis_url=redis_url, queue_name=QUEUE, moderation_chat_id=-1)
        db = open_database(url)
        await empty(db)
        async with db.transaction() as session:
            await admin.add_unit(session, "基准单位", "city", None, actor="bench")
            account = await admin.add_account(
                session,
                unit="基准单位",
                platform="app",
                name="基准-app",
                api_base_url=emulator_url,
                secret_env=SECRET_ENV,
                actor="bench",
            )
        assert account.id is not None
        redis = await connect(redis_url, QUEUE)
        deps = WorkerContext(settings=settings, db=db, redis=redis, http=make_http_client(30))
        ctx: dict[str, Any] = {"context": deps}
        await poll_comments(ctx)  # opens the feed's intake row
        await drop_queue(redis)

        started, cpu_started = time.perf_counter(), time.process_time()
        stored = await poll_all(ctx, account.id, db)
        ingest_seconds = time.perf_counter() - started
        ingest_cpu = time.process_time() - cpu_started

        await make_due(db, cursor=False)
        started = time.perf_counter()
        await poll_until_done(ctx, account.id, db)
        dedupe_seconds = time.perf_counter() - started
        await deps.aclose()
        await drop_queue(redis)
        await redis.aclose()

    raw_rate, ingest_rate = listed / raw_seconds, stored / ingest_seconds
    print(f"comments seeded                      {count}")
    # Other processes share the cores: the 1-minute load average says how much of one this run had.
    print(f"load average (1 min) before / after  {load_before:10.2f} / {os.getloadavg()[0]:.2f}")
    print(f"raw emulator listing (aiohttp)       {raw_rate:10,.0f} comments/s  ({raw_seconds:.2f} s)")
    print(f"poll + screen + dedupe + store       {ingest_rate:10,.0f} comments/s  ({ingest_seconds:.2f} s)")
    print(f"  per CPU second of this process     {stored / ingest_cpu:10,.0f} comments")
    print(f"re-poll, all duplicates              {count / dedupe_seconds:10,.0f} comments/s")
    print(f"ratio pipeline / raw listing         {ingest_rate / raw_rate:10.2f}")
    print(f"goal >= {GOAL:,} comments/s stored      {'met' if ingest_rate >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--database-url", help="default: a new SQLite file; PostgreSQL for the goal")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8", help="for the quota")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # errors only
    os.environ[SECRET_ENV] = SECRET
    sqlite_file = Path(tempfile.mkdtemp(prefix="syndicator-bench-")) / "bench.db"
    database_url = args.database_url or f"sqlite+aiosqlite:///{sqlite_file}"
    upgrade(database_url)
    asyncio.run(run(args.comments, database_url, args.redis_url))
