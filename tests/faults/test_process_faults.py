"""Processes failing under the pipeline: workers SIGKILLed mid-publish, Redis flushed and
restarted, database connections terminated. Every article still lands exactly once everywhere."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from syndicator.demo.processes import wait_until
from syndicator.demo.stack import derived_articles
from syndicator.models import PublicationState
from tests.faults.conftest import CHANNELS, PrivateRedis, Stack, StackBuilder, Tally

pytestmark = [pytest.mark.timeout(200)]

ARTICLES = 20
LATENCY_MS = 60  # every platform call takes a while, so faults land mid-publish


def slow_platforms(stack: Stack) -> None:
    for channel in CHANNELS:
        stack.emulators.inject(channel, latency_ms=LATENCY_MS)


async def sending_now(stack: Stack) -> bool:
    return (await stack.states())[PublicationState.SENDING] > 0


async def wait_for(check: Callable[[], Awaitable[bool]], *, timeout: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


async def kill_while_sending(stack: Stack, indexes: list[int]) -> None:
    await wait_for(lambda: sending_now(stack), timeout=30)
    await asyncio.sleep(stack.rng.uniform(0.05, 0.4))
    for index in indexes:
        stack.workers.kill(index)
        stack.workers.restart(index)


async def a_running_worker(stack: Stack) -> int:
    """A worker that is past its start-up: one killed while importing proves nothing."""
    await wait_for(lambda: asyncio.to_thread(any_ready, stack), timeout=60)
    return stack.rng.choice([i for i in range(len(stack.workers.processes)) if stack.workers.ready(i)])


def any_ready(stack: Stack) -> bool:
    return any(stack.workers.ready(i) for i in range(len(stack.workers.processes)))


async def test_workers_killed_mid_publish(build_stack: StackBuilder) -> None:
    stack = await build_stack(workers=3)
    articles = derived_articles(ARTICLES, tag="k")
    await stack.seed(articles)
    slow_platforms(stack)
    await stack.publish_batch(articles)
    for _ in range(2):  # one random worker at a time ...
        await kill_while_sending(stack, [await a_running_worker(stack)])
    await kill_while_sending(stack, [0, 1, 2])  # ... then all of them: some job surely dies mid-publish
    # Fixed, a killed job is back after job_timeout + 10 s (18 s here); never wait for arq's hour.
    await settle_or_show(stack, articles, timeout=30)


async def settle_or_show(stack: Stack, articles: list[dict[str, Any]], *, timeout: float) -> Tally:
    """Settle, then assert exactly-once; unsettled, still prove nothing was posted twice."""
    try:
        await stack.wait_settled(ARTICLES * len(CHANNELS), timeout=timeout)
    except TimeoutError:
        result = await stack.verify(articles)
        result.lost = []  # not settled: missing posts may still come; duplicates never go away
        assert not result.duplicated, f"duplicated: {result.duplicated}"
        raise
    result = await stack.verify(articles)
    result.assert_exactly_once()
    return result


async def test_redis_flushed_and_restarted(build_stack: StackBuilder, private_redis: PrivateRedis) -> None:
    stack = await build_stack(workers=2, redis=private_redis.url)
    articles = derived_articles(ARTICLES, tag="r")
    await stack.seed(articles)
    slow_platforms(stack)
    first, second = articles[:12], articles[12:]
    await stack.publish_batch(first)
    await wait_for(lambda: published_some(stack), timeout=30)
    private_redis.flush_and_stop()
    stack.events["redis:flushall+stop"] += 1
    await stack.publish_batch(second)  # accepted and stored while Redis is down
    await asyncio.sleep(1.0)
    private_redis.start()
    stack.events["redis:restart"] += 1

    async def supervise() -> None:  # `syndicator worker` exits when Redis goes away: restart it
        stack.events["worker:exited-revived"] += stack.workers.revive_exited()

    await stack.wait_settled(ARTICLES * len(CHANNELS), timeout=100, tick=supervise)
    result = await stack.verify(articles)
    result.assert_exactly_once()


async def published_some(stack: Stack) -> bool:
    return (await stack.states())[PublicationState.PUBLISHED] >= 6


async def test_wechat_submit_in_doubt_then_redis_flushed(
    build_stack: StackBuilder, private_redis: PrivateRedis
) -> None:
    """Deterministic: WeChat accepts every submit but the answer never arrives; the workers die
    while waiting for it; Redis is flushed. The next attempt must read back, not submit again."""
    # A patient client: every job is still waiting for its submit's answer when the workers die.
    slow = {"SYNDICATOR_CHANNEL_TIMEOUT_SECONDS": "20", "SYNDICATOR_JOB_TIMEOUT_SECONDS": "40"}
    stack = await build_stack(workers=2, redis=private_redis.url, env_overrides=slow)
    articles = derived_articles(5, tag="w")
    await stack.seed(articles)
    submit = {"kind": "timeout_after", "path": "freepublish/submit"}
    stack.emulators.inject("wechat", hang_seconds=30, random_rate=1.0, random_faults=[submit])
    await stack.publish_batch(articles)
    landed = lambda: len(stack.emulators.state("wechat")["submissions"]) >= len(articles)  # noqa: E731
    await asyncio.to_thread(wait_until, landed, timeout=60, what="every WeChat submit to land")
    for index in range(2):
        stack.workers.kill(index)  # while each job still waits for its submit's answer
    private_redis.flush_and_stop()
    stack.events["redis:flushall+stop"] += 1
    stack.emulators.inject("wechat")  # the platform answers normally again
    private_redis.start()
    for index in range(2):
        stack.workers.restart(index)
    await stack.wait_settled(len(articles) * len(CHANNELS), timeout=60)
    (await stack.verify(articles)).assert_exactly_once()


def postgres_only(url: str) -> None:
    if url.startswith("sqlite"):
        pytest.skip("connection drops need PostgreSQL (pg_terminate_backend); SQLite has no server")


def worker_postgres_ports(pids: list[int]) -> set[int]:
    """Local TCP ports of these processes' connections to port 5432, read from /proc."""
    inodes: set[str] = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        for fd in fd_dir.iterdir() if fd_dir.exists() else []:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and remote.endswith(":1538"):  # 0x1538 = 5432
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


async def terminate_backends(database_url: str, ports: set[int]) -> int:
    if not ports:
        return 0
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            query = text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND client_port = ANY(:ports)"
            )
            return int((await connection.execute(query, {"ports": sorted(ports)})).scalar_one())
    finally:
        await engine.dispose()


async def test_database_connections_dropped(build_stack: StackBuilder, database_url: str) -> None:
    postgres_only(database_url)
    stack = await build_stack(workers=2)
    articles = derived_articles(ARTICLES, tag="d")
    await stack.seed(articles)
    slow_platforms(stack)
    await stack.publish_batch(articles)
    for _ in range(3):
        await wait_for(lambda: sending_now(stack), timeout=20)
        pids = [p.pid for p in stack.workers.processes] + [os.getpid()]
        ports = worker_postgres_ports(pids)
        stack.events["postgres:backend-terminated"] += await terminate_backends(database_url, ports)
        await asyncio.sleep(0.7)
    await stack.wait_settled(ARTICLES * len(CHANNELS), timeout=100)
    await stack.db.engine.dispose()  # this process' pooled connections were terminated too
    (await stack.verify(articles)).assert_exactly_once()
