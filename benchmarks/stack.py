"""The pipeline under test, as separate processes: emulators, the API and arq workers.

The processes, emulators, accounts and articles come from the one stack harness
(syndicator.demo.stack) that the demo and the fault suite use too; this module adds what only a
benchmark needs: the PostgreSQL benchmark database, py-spy, and CPU time and RSS from /proc, so
they count each process exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx
import redis.asyncio as aioredis

from benchmarks import config as c
from syndicator.db import open_database
from syndicator.demo.processes import Proc, Processes, WorkerPool, free_port, wait_until
from syndicator.demo.stack import (
    ARTICLES_PATH,
    Credentials,
    EmulatorOptions,
    UnitSpec,
    corpus,
    emulator_command,
    emulator_state,
    inject_faults,
    seed_accounts,
    signed_delivery,
    units_of,
)
from syndicator.migrate import upgrade
from syndicator.pipeline.policy import TERMINAL_STATES

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CREDENTIALS = Credentials(c.INGEST_SECRET, c.WECHAT_APP_ID, dict(c.SECRET_ENV))
EMULATOR_OPTIONS = EmulatorOptions(
    wechat_publish_delay_seconds=c.WECHAT_PUBLISH_DELAY_SECONDS, weibo_hourly_limit=c.WEIBO_HOURLY_LIMIT
)


# -- processes -------------------------------------------------------------------------------------


def cpu_seconds(proc: Proc) -> float:
    """user + system CPU seconds of one process (its own threads included)."""
    raw = Path(f"/proc/{proc.pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(proc: Proc) -> float:
    pages = int(Path(f"/proc/{proc.pid}/statm").read_text().split()[1])
    return pages * PAGE_SIZE / 2**20


@contextmanager
def processes() -> Iterator[Processes]:
    """Stops every started process on exit, also on SIGTERM (turned into SystemExit)."""
    procs = Processes()
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield procs
    finally:
        procs.stop_all()
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(143)


def pipeline_env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SYNDICATOR_DATABASE_URL": c.DATABASE_URL,
        "SYNDICATOR_REDIS_URL": c.REDIS_URL,
        "SYNDICATOR_QUEUE_NAME": c.QUEUE_NAME,
        "SYNDICATOR_INGEST_SECRET": c.INGEST_SECRET,
        "SYNDICATOR_WORKER_MAX_JOBS": str(c.MAX_JOBS),
        "SYNDICATOR_ASYNC_PUBLISH_POLL_SECONDS": str(c.POLL_SECONDS),
        "PYTHONUNBUFFERED": "1",
        **CREDENTIALS.environ(),
    }
    return {**env, **extra}


async def wait_http(url: str, proc: Proc, timeout: float = 30.0) -> None:
    def answers() -> bool:
        proc.check_alive()
        try:
            return httpx.get(url, timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    await asyncio.to_thread(wait_until, answers, timeout=timeout, what=f"{proc.name} at {url}")


# -- emulators -------------------------------------------------------------------------------------


@dataclass
class Emulators:
    """One emulator process per platform (its CPU counted apart), on fixed ports, restartable with
    fresh state."""

    procs: Processes
    ports: dict[str, int] = field(default_factory=lambda: {p: free_port() for p in c.PLATFORMS})
    running: dict[str, Proc] = field(default_factory=dict)

    def url(self, platform: str) -> str:
        return f"http://127.0.0.1:{self.ports[platform]}"

    async def start(self, latency_ms: float, platforms: Sequence[str] = c.PLATFORMS) -> None:
        self.stop()
        for platform in platforms:
            argv = emulator_command(platform, self.ports[platform], CREDENTIALS, EMULATOR_OPTIONS)
            env = {**os.environ, **CREDENTIALS.environ()}
            self.running[platform] = self.procs.start(f"emulator-{platform}", argv, env)
        for platform, proc in self.running.items():
            await wait_http(f"{self.url(platform)}/_emulator/faults", proc)
            inject_faults(self.url(platform), latency_ms=latency_ms)

    def stop(self) -> None:
        for proc in self.running.values():
            self.procs.stop(proc)
        self.running.clear()

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(proc) for proc in self.running.values())

    async def wechat_state(self) -> dict[str, Any]:
        return await asyncio.to_thread(emulator_state, self.url("wechat"))


# -- the pipeline ----------------------------------------------------------------------------------


@dataclass
class Pipeline:
    """The API and `workers` arq worker processes, all real CLI commands."""

    procs: Processes
    api_port: int = field(default_factory=free_port)
    api: Proc | None = None
    workers: WorkerPool | None = None
    profile: bool = False  # py-spy every process; collapsed stacks land in the log dir
    profilers: list[Proc] = field(default_factory=list)
    # The worker command; benchmarks.idle's arq-polling worker stands in for the old one.
    worker_argv: tuple[str, ...] = (str(c.SYNDICATOR), "worker")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    async def start(self, workers: int) -> None:
        self.api = self.procs.start(
            "api", [str(c.SYNDICATOR), "serve", "--port", str(self.api_port)], pipeline_env()
        )
        self.workers = WorkerPool(self.procs, pipeline_env(), argv=self.worker_argv)
        self.workers.start(workers)
        await wait_http(f"{self.api_url}/healthz", self.api)
        await asyncio.to_thread(self.workers.wait_ready, 30)
        if self.profile:
            for proc in [self.api, *self.workers.processes]:
                self.profilers.append(self._py_spy(proc))

    def _py_spy(self, proc: Proc) -> Proc:
        out = self.procs.log_dir / f"profile-{proc.name}-{proc.pid}.txt"
        argv = [
            str(c.PY_SPY),
            "record",
            "--format",
            "raw",
            "--nonblocking",
            "-o",
            str(out),
            "--pid",
            str(proc.pid),
        ]
        return self.procs.start(f"py-spy-{proc.name}", argv, dict(os.environ))

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()
        if self.api is not None:
            self.procs.stop(self.api)
        for profiler in self.profilers:  # py-spy writes its file once its target has exited
            with contextlib.suppress(subprocess.TimeoutExpired):
                profiler.popen.wait(30)
            self.procs.stop(profiler)
        self.profilers.clear()
        self.workers = None
        self.api = None

    def _workers(self) -> list[Proc]:
        return self.workers.processes if self.workers is not None else []

    def cpu_seconds(self) -> dict[str, float]:
        assert self.api is not None
        return {"api": cpu_seconds(self.api), "workers": sum(cpu_seconds(w) for w in self._workers())}

    def worker_rss_mb(self) -> list[float]:
        return [rss_mb(w) for w in self._workers()]


# -- database and queue ----------------------------------------------------------------------------


async def fresh_database() -> None:
    """Drop and recreate the benchmark database (never any other), then migrate it."""
    conn = await asyncpg.connect(c.ADMIN_DATABASE_URL)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {c.DB_NAME} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {c.DB_NAME} CONNECTION LIMIT {c.DB_CONNECTION_LIMIT}")
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, c.DATABASE_URL)  # alembic runs its own event loop


async def flush_queue() -> None:
    """Empty the benchmark's Redis database (db 3) only."""
    client = aioredis.Redis.from_url(c.REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def seed(units: Sequence[UnitSpec], emulators: Emulators) -> None:
    os.environ.update(CREDENTIALS.environ())
    db = open_database(c.DATABASE_URL)
    try:
        urls = {platform: emulators.url(platform) for platform in c.PLATFORMS}
        await seed_accounts(db, units, urls, CREDENTIALS, actor="bench")
    finally:
        await db.dispose()


def corpus_units(platforms: tuple[str, ...] = c.PLATFORMS) -> list[UnitSpec]:
    return units_of(corpus(), platforms)


# -- ingest ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    accepted_at: float  # time.time() when the 202 arrived
    publications: list[int]


async def post_article(session: aiohttp.ClientSession, api_url: str, article: dict[str, Any]) -> Accepted:
    body, headers = signed_delivery(c.INGEST_SECRET, article)
    async with session.post(f"{api_url}{ARTICLES_PATH}", data=body, headers=headers) as response:
        answer = await response.json()
        if response.status != 202:
            raise RuntimeError(f"ingest answered {response.status}: {answer}")
    return Accepted(time.time(), list(answer["publications"]))


async def post_articles(api_url: str, articles: Sequence[dict[str, Any]], concurrency: int) -> list[Accepted]:
    semaphore = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=60)

    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def one(article: dict[str, Any]) -> Accepted:
            async with semaphore:
                return await post_article(session, api_url, article)

        return list(await asyncio.gather(*(one(a) for a in articles)))


# -- outcomes --------------------------------------------------------------------------------------


async def max_publication_id() -> int:
    conn = await asyncpg.connect(c.RAW_DATABASE_URL)
    try:
        return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM publication"))
    finally:
        await conn.close()


async def wait_terminal(after_id: int, expected: int, timeout: float) -> dict[str, int]:
    """Poll the database until the `expected` publications with id > after_id are all terminal."""
    deadline = time.monotonic() + timeout
    conn = await asyncpg.connect(c.RAW_DATABASE_URL)
    try:
        while True:
            rows = await conn.fetch(
                "SELECT state, count(*) AS n FROM publication WHERE id > $1 GROUP BY state", after_id
            )
            states = {row["state"]: int(row["n"]) for row in rows}
            done = sum(n for state, n in states.items() if state in TERMINAL_STATES)
            if done >= expected or time.monotonic() > deadline:
                return states
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def finished_at(after_id: int) -> float:
    """Unix time of the last publication's terminal transition, from the database."""
    conn = await asyncpg.connect(c.RAW_DATABASE_URL)
    try:
        value = await conn.fetchval(
            "SELECT max(coalesce(published_at, updated_at)) FROM publication WHERE id > $1", after_id
        )
        return float(value.timestamp())
    finally:
        await conn.close()


async def published_times(ids: Sequence[int]) -> dict[int, float]:
    conn = await asyncpg.connect(c.RAW_DATABASE_URL)
    try:
        rows = await conn.fetch(
            "SELECT id, published_at FROM publication WHERE id = ANY($1::int[]) AND published_at IS NOT NULL",
            list(ids),
        )
        return {int(row["id"]): float(row["published_at"].timestamp()) for row in rows}
    finally:
        await conn.close()


async def completion_times(after_id: int) -> list[float]:
    conn = await asyncpg.connect(c.RAW_DATABASE_URL)
    try:
        rows = await conn.fetch(
            "SELECT coalesce(published_at, updated_at) AS t FROM publication WHERE id > $1 ORDER BY 1",
            after_id,
        )
        return [float(row["t"].timestamp()) for row in rows]
    finally:
        await conn.close()


async def db_transactions() -> int:
    """Committed + rolled-back transactions of the benchmark database so far (pings included)."""
    conn = await asyncpg.connect(c.ADMIN_DATABASE_URL)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        value = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1", c.DB_NAME
        )
        return int(value or 0)
    finally:
        await conn.close()


async def database_mb() -> float:
    conn = await asyncpg.connect(c.ADMIN_DATABASE_URL)
    try:
        return int(await conn.fetchval("SELECT pg_database_size($1)", c.DB_NAME)) / 2**20
    finally:
        await conn.close()


async def peak_connections() -> int:
    conn = await asyncpg.connect(c.ADMIN_DATABASE_URL)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", c.DB_NAME))
    finally:
        await conn.close()


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line), "?"
    )
    mem_kb = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    return {
        "nproc": str(os.cpu_count()),
        "memory": f"{mem_kb / 2**20:.1f} GiB",
        "cpu": model,
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]
