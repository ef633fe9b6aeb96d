"""The pipeline under test, as separate processes: emulators, the API and arq workers.

Every process is started through `Processes`, which stops them all on exit (normal, error or
Ctrl-C). CPU time and RSS come from /proc, so they count each process exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import redis.asyncio as aioredis

from benchmarks import config as c
from syndicator import admin
from syndicator.db import open_database
from syndicator.migrate import upgrade
from syndicator.pipeline.policy import TERMINAL_STATES
from syndicator.signing import signed_headers

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# -- processes -------------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def rss_mb(self) -> float:
        return proc_rss_mb(self.pid)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def proc_cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of one process (its own threads included)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * PAGE_SIZE / 2**20


@dataclass
class Processes:
    """Every subprocess a benchmark starts; `stop_all` ends exactly these, by pid."""

    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="syndicator-bench-")))
    running: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], env: dict[str, str]) -> Proc:
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                list(argv), env=env, cwd=c.ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        proc = Proc(name, popen, log)
        self.running.append(proc)
        return proc

    def stop(self, proc: Proc, grace: float = 10.0) -> None:
        if proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGTERM)
            try:
                proc.popen.wait(grace)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(5)
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in list(reversed(self.running)):
            self.stop(proc)


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        **dict(c.SECRET_ENV.values()),
    }
    return {**env, **extra}


async def wait_http(url: str, proc: Proc, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited: {proc.log_text()[-2000:]}")
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{proc.name} not answering at {url}")


async def wait_log(proc: Proc, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited: {proc.log_text()[-2000:]}")
        if text in proc.log_text():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{proc.name} never logged {text!r}")


# -- emulators -------------------------------------------------------------------------------------


@dataclass
class Emulators:
    """One emulator process per platform, on fixed ports, restartable with fresh state."""

    procs: Processes
    ports: dict[str, int] = field(default_factory=lambda: {p: free_port() for p in c.PLATFORMS})
    running: dict[str, Proc] = field(default_factory=dict)

    def url(self, platform: str) -> str:
        return f"http://127.0.0.1:{self.ports[platform]}"

    async def start(self, latency_ms: float, platforms: Sequence[str] = c.PLATFORMS) -> None:
        self.stop()
        for platform in platforms:
            argv = [str(c.PYTHON), "-m", "benchmarks.emulator_server", platform, str(self.ports[platform])]
            self.running[platform] = self.procs.start(f"emulator-{platform}", argv, dict(os.environ))
        async with aiohttp.ClientSession() as session:
            for platform, proc in self.running.items():
                await wait_http(f"{self.url(platform)}/_emulator/faults", proc)
                plan = {"latency_ms": latency_ms}
                async with session.post(f"{self.url(platform)}/_emulator/faults", json=plan) as response:
                    response.raise_for_status()

    def stop(self) -> None:
        for proc in self.running.values():
            self.procs.stop(proc)
        self.running.clear()

    def cpu_seconds(self) -> float:
        return sum(proc.cpu_seconds() for proc in self.running.values())

    async def wechat_state(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{self.url('wechat')}/_emulator/state") as response:
                state: dict[str, Any] = await response.json()
                return state


# -- the pipeline ----------------------------------------------------------------------------------


@dataclass
class Pipeline:
    """The API and `workers` arq worker processes, all real CLI commands."""

    procs: Processes
    api_port: int = field(default_factory=free_port)
    api: Proc | None = None
    workers: list[Proc] = field(default_factory=list)
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
        for index in range(workers):
            self.workers.append(self.procs.start(f"worker-{index}", list(self.worker_argv), pipeline_env()))
        await wait_http(f"{self.api_url}/healthz", self.api)
        for worker in self.workers:
            await wait_log(worker, "Starting worker")
        if self.profile:
            for proc in [self.api, *self.workers]:
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
        for proc in [*self.workers, *([self.api] if self.api else [])]:
            self.procs.stop(proc)
        for profiler in self.profilers:  # py-spy writes its file once its target has exited
            with contextlib.suppress(subprocess.TimeoutExpired):
                profiler.popen.wait(30)
            self.procs.stop(profiler)
        self.profilers.clear()
        self.workers.clear()
        self.api = None

    def cpu_seconds(self) -> dict[str, float]:
        assert self.api is not None
        return {"api": self.api.cpu_seconds(), "workers": sum(w.cpu_seconds() for w in self.workers)}

    def worker_rss_mb(self) -> list[float]:
        return [w.rss_mb() for w in self.workers]


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


@dataclass(frozen=True)
class UnitSpec:
    name: str
    level: str
    portal: str
    platforms: tuple[str, ...]


async def seed(units: Sequence[UnitSpec], emulators: Emulators) -> None:
    os.environ.update(dict(c.SECRET_ENV.values()))
    db = open_database(c.DATABASE_URL)
    try:
        async with db.transaction() as session:
            for unit in units:
                await admin.add_unit(session, unit.name, unit.level, None, actor="bench")
                for platform in unit.platforms:
                    extra = (
                        {"app_id": c.WECHAT_APP_ID, "default_cover": str(c.COVER)}
                        if platform == "wechat"
                        else {}
                    )
                    await admin.add_account(
                        session,
                        unit=unit.name,
                        platform=platform,
                        name=f"{unit.name}-{platform}",
                        api_base_url=emulators.url(platform),
                        secret_env=c.SECRET_ENV[platform][0],
                        safe_domain=unit.portal,
                        actor="bench",
                        **extra,
                    )
    finally:
        await db.dispose()


def corpus() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(c.CORPUS_DIR.glob("*.json"))]


def corpus_units(platforms: tuple[str, ...] = c.PLATFORMS) -> list[UnitSpec]:
    return [UnitSpec(a["unit"], a["unit_level"], a["source_portal"], platforms) for a in corpus()]


def make_articles(count: int, tag: str, unit: str | None = None) -> list[dict[str, Any]]:
    """`count` distinct articles cycled from the corpus: new external_id, title and URL each."""
    base = corpus()
    articles = []
    for index in range(count):
        article = dict(base[index % len(base)])
        article["external_id"] = f"{article['external_id']}-{tag}-{index}"
        article["title"] = f"（{tag}-{index}）{article['title']}"
        article["url"] = article["url"].replace(".html", f"-{tag}-{index}.html")
        if unit is not None:
            article["unit"] = unit
        articles.append(article)
    return articles


# -- ingest ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    accepted_at: float  # time.time() when the 202 arrived
    publications: list[int]


async def post_article(session: aiohttp.ClientSession, api_url: str, article: dict[str, Any]) -> Accepted:
    body = json.dumps(article, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        **signed_headers(c.INGEST_SECRET, "POST", "/api/v1/articles", body),
    }
    async with session.post(f"{api_url}/api/v1/articles", data=body, headers=headers) as response:
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
