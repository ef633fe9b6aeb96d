"""The fault-injection suite's stack: the real API, channel emulators, ≥ 2 `syndicator worker`
subprocesses, Redis and the database, plus the ledger behind the final table.

Every case builds a `Stack`, delivers a batch of corpus-derived articles through the signed webhook,
injects its faults, waits (polling, with a deadline) until every publication is settled, and then
counts what each emulator itself recorded: an article missing on a channel is *lost*, a second
post of it is *duplicated*; both must be 0, and the database must agree with the emulators.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import col, select

from syndicator.api.app import create_app as create_api
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.demo import stack as harness
from syndicator.demo.processes import Processes, WorkerPool, free_port, stop_process, wait_until
from syndicator.demo.stack import Credentials, EmulatorOptions, Emulators
from syndicator.models import Article, ChannelAccount, Publication, PublicationState
from tests.conftest import APP_SECRET, APP_SECRET_ENV, INGEST_SECRET

CHANNELS = harness.PLATFORMS
CREDENTIALS = Credentials(
    ingest_secret=INGEST_SECRET,
    wechat_app_id="wxfa017fa017fa017f",
    secrets={
        "app": (APP_SECRET_ENV, APP_SECRET),
        "wechat": ("SYNDICATOR_FAULT_WECHAT_SECRET", "fault-wechat-secret"),
        "weibo": ("SYNDICATOR_FAULT_WEIBO_TOKEN", "fault-weibo-token"),
    },
)
# Weibo's quota is never the fault under test here (test_platform_faults injects its own).
EMULATOR_OPTIONS = EmulatorOptions(
    wechat_publish_delay_seconds=0.1, weibo_hourly_limit=1_000_000, weibo_token_ttl_seconds=24 * 3600
)
SEED = int(os.environ.get("SYNDICATOR_FAULT_SEED", str(int(time.time()) % 100_000)))

# Short clocks so a killed worker's job comes back soon (arq: job_timeout + 10 s) and the
# reconciler (second 0 and 30) re-enqueues whatever the queue lost.
WORKER_ENV = {
    "SYNDICATOR_JOB_TIMEOUT_SECONDS": "8",
    # Fewer concurrent jobs per worker: on SQLite they all queue for the one write lock.
    "SYNDICATOR_WORKER_MAX_JOBS": "10",
    "SYNDICATOR_STUCK_AFTER_SECONDS": "3",
    "SYNDICATOR_RETRY_BASE_SECONDS": "0.2",
    "SYNDICATOR_RETRY_CAP_SECONDS": "1.5",
    "SYNDICATOR_CHANNEL_TIMEOUT_SECONDS": "1.0",
    "SYNDICATOR_ASYNC_PUBLISH_POLL_SECONDS": "0.3",
    "SYNDICATOR_PUBLISH_MAX_ATTEMPTS": "40",
    "SYNDICATOR_WORKER_POLL_DELAY_SECONDS": "0.05",
}
HANG_SECONDS = 2.0  # injected timeouts hang this long, longer than the channel timeout


# -- the ledger behind the final table ---------------------------------------------------------


@dataclass
class CaseRow:
    case: str
    faults: Counter[str] = field(default_factory=Counter)
    articles: int = 0
    lost: int = 0
    duplicated: int = 0
    seconds: float = 0.0


LEDGER: list[CaseRow] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not LEDGER:
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"fault injection (seed {SEED})")
    write(f"{'case':<44} {'faults':>6} {'articles':>8} {'lost':>5} {'dup':>5} {'secs':>6}  kinds")
    for row in LEDGER:
        kinds = ", ".join(f"{kind}×{count}" for kind, count in sorted(row.faults.items()))
        write(
            f"{row.case:<44} {sum(row.faults.values()):>6} {row.articles:>8} {row.lost:>5} "
            f"{row.duplicated:>5} {row.seconds:>6.1f}  {kinds}"
        )
    total = [sum(sum(r.faults.values()) for r in LEDGER), sum(r.articles for r in LEDGER)]
    lost, duplicated = sum(r.lost for r in LEDGER), sum(r.duplicated for r in LEDGER)
    write(f"{'TOTAL':<44} {total[0]:>6} {total[1]:>8} {lost:>5} {duplicated:>5}")


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Iterator[CaseRow]:
    name = request.node.name.removeprefix("test_")
    row = CaseRow(case=name if len(name) <= 44 else f"{name[:28]}…{name[-15:]}")
    started = time.monotonic()
    yield row
    row.seconds = time.monotonic() - started
    LEDGER.append(row)


# -- processes -----------------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    """A redis-server of this suite's own, so it can be flushed and restarted without harm."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, timeout=10, what="private redis-server to start")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def flush_and_stop(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            sock.recv(16)
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


# -- what the emulators recorded ----------------------------------------------------------------


def posts_per_url(emulators: Emulators, urls: list[str]) -> dict[str, Counter[str]]:
    """channel -> portal URL -> posts created there (each app article, WeChat submit, Weibo share)."""
    app = emulators.state("app")
    wechat = emulators.state("wechat")
    weibo = emulators.state("weibo")
    assert len(wechat["submissions"]) == len(wechat["articles"]), "a WeChat submit never settled"
    return {
        "app": Counter(article["source_url"] for article in app["articles"].values()),
        "wechat": Counter(items[0]["content_source_url"] for items in wechat["articles"].values()),
        "weibo": Counter(url for share in weibo["shares"] for url in urls if url in share["status"]),
    }


@dataclass
class Tally:
    articles: int
    lost: list[str]
    duplicated: list[str]
    disagreements: list[str]

    def record(self, row: CaseRow) -> None:
        row.articles += self.articles
        row.lost += len(self.lost)
        row.duplicated += len(self.duplicated)

    def assert_exactly_once(self) -> None:
        assert not self.lost, f"lost: {self.lost}"
        assert not self.duplicated, f"duplicated: {self.duplicated}"
        assert not self.disagreements, f"database disagrees with the emulators: {self.disagreements}"


def remote_ids(emulators: Emulators) -> dict[str, set[str]]:
    return {
        "app": set(emulators.state("app")["articles"]),
        "wechat": set(emulators.state("wechat")["articles"]),
        "weibo": {share["id"] for share in emulators.state("weibo")["shares"]},
    }


async def publication_rows(db: Database) -> list[tuple[Publication, ChannelAccount, Article]]:
    async with db.transaction() as session:
        query = (
            select(Publication, ChannelAccount, Article)
            .join(ChannelAccount, col(ChannelAccount.id) == col(Publication.account_id))
            .join(Article, col(Article.id) == col(Publication.article_id))
        )
        return list((await session.exec(query)).all())


async def tally(db: Database, emulators: Emulators, articles: list[dict[str, Any]]) -> Tally:
    urls = [article["url"] for article in articles]
    posts = posts_per_url(emulators, urls)
    lost = [f"{ch} {url}" for ch in CHANNELS for url in urls if posts[ch][url] == 0]
    duplicated = [f"{ch} {url} ×{posts[ch][url]}" for ch in CHANNELS for url in urls if posts[ch][url] > 1]
    known = remote_ids(emulators)
    disagreements = []
    for publication, account, article in await publication_rows(db):
        where = f"publication {publication.id} ({account.platform} {article.url})"
        if publication.state == PublicationState.PUBLISHED:
            if publication.remote_id not in known[account.platform]:
                disagreements.append(f"{where}: remote id {publication.remote_id} unknown to the emulator")
        elif publication.state != PublicationState.SUPERSEDED:
            disagreements.append(f"{where}: {publication.state} {publication.error_message}")
    return Tally(len(articles), lost, duplicated, disagreements)


# -- the stack -------------------------------------------------------------------------------------


@dataclass
class Stack:
    db: Database
    emulators: Emulators
    workers: WorkerPool
    api: BackgroundServer
    env: dict[str, str]
    row: CaseRow
    rng: random.Random
    reader: AsyncEngine
    events: Counter[str] = field(default_factory=Counter)
    # Every delivery of this stack gets its own timestamp (t0, t0 - 1, ...), so two deliveries of one
    # body never share a signature (that would be a replay); all stay inside the 300 s tolerance.
    _t0: int = field(default_factory=lambda: int(time.time()))
    _signed: int = 0

    def _timestamp(self) -> int:
        self._signed += 1
        return self._t0 - self._signed

    async def seed(self, articles: list[dict[str, Any]]) -> None:
        units = harness.units_of(articles)
        await harness.seed_accounts(self.db, units, self.emulators.urls(), CREDENTIALS, actor="faults")

    async def deliver(self, articles: list[dict[str, Any]], *, concurrency: int = 4) -> list[httpx.Response]:
        timestamps = [self._timestamp() for _ in articles]
        return await harness.deliver(
            self.api.url, articles, INGEST_SECRET, concurrency=concurrency, timestamps=timestamps
        )

    async def publish_batch(self, articles: list[dict[str, Any]]) -> None:
        responses = await self.deliver(articles)
        refused = [r.text for r in responses if r.status_code != 202]
        assert not refused, refused

    async def states(self) -> Counter[str]:
        """Read without the write lock (db.transaction is BEGIN IMMEDIATE on SQLite); a connection
        terminated under us (the connection-drop case) is simply read again."""
        for attempt in range(3):
            try:
                return await harness.publication_states(self.reader)
            except DBAPIError:
                if attempt == 2:
                    raise
                await asyncio.sleep(0.2)
        raise AssertionError("unreachable")

    async def wait_settled(
        self, expected: int, *, timeout: float = 90, tick: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Until `expected` publications exist and none is in flight; `tick` runs on every poll."""
        deadline = time.monotonic() + timeout
        while True:
            states = await self.states()
            if harness.settled(states, expected):
                return
            if time.monotonic() > deadline:
                # The builtin TimeoutError, not a class of this conftest: pytest imports conftest.py
                # under another module name than the test modules do.
                raise TimeoutError(
                    f"not settled after {timeout:.0f} s: {dict(states)}\n{self.workers.tail()}"
                )
            if tick is not None:
                await tick()
            await asyncio.sleep(0.3)

    async def verify(self, articles: list[dict[str, Any]]) -> Tally:
        result = await tally(self.db, self.emulators, articles)
        result.record(self.row)
        self.row.faults.update(self.emulators.injected(ignore_paths=("rate_limit_status",)))
        self.row.faults.update(self.events)
        if self.workers.kills:
            self.row.faults["worker:SIGKILL"] += self.workers.kills
        if self.workers.restarts:
            self.row.faults["worker:restart"] += self.workers.restarts
        return result

    def close(self) -> None:
        self.workers.owner.stop_all()
        self.api.stop()
        self.emulators.stop()

    async def aclose(self) -> None:
        self.close()
        await self.reader.dispose()


def stack_env(database_url: str, redis_url: str, queue: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")}
    return {
        **inherited,
        **WORKER_ENV,
        "SYNDICATOR_DATABASE_URL": database_url,
        "SYNDICATOR_REDIS_URL": redis_url,
        "SYNDICATOR_QUEUE_NAME": queue,
        "SYNDICATOR_INGEST_SECRET": INGEST_SECRET,
        **CREDENTIALS.environ(),
    }


def log_dir(tmp_path: Path, case: str) -> Path:
    """Worker logs go to tmp_path, or to $SYNDICATOR_FAULT_LOG_DIR/<case> to keep them."""
    kept = os.environ.get("SYNDICATOR_FAULT_LOG_DIR")
    path = Path(kept) / case if kept else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


StackBuilder = Callable[..., Awaitable[Stack]]


@pytest.fixture
async def build_stack(
    db: Database,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
    ledger: CaseRow,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> AsyncIterator[StackBuilder]:
    """Build the whole stack; everything it started is stopped at teardown, workers first."""
    built: list[Stack] = []
    for name, value in CREDENTIALS.environ().items():
        monkeypatch.setenv(name, value)  # the in-process API and helpers read account secrets too

    async def build(
        *, workers: int = 2, redis: str | None = None, env_overrides: dict[str, str] | None = None
    ) -> Stack:
        queue = f"syndicator:faults:{os.getpid()}"
        env = {**stack_env(database_url, redis or redis_url, queue), **(env_overrides or {})}
        settings = Settings(
            database_url=database_url,
            redis_url=redis or redis_url,
            queue_name=queue,
            ingest_secret=SecretStr(INGEST_SECRET),
        )
        emulators = harness.start_emulators(CREDENTIALS, EMULATOR_OPTIONS)
        emulators.fault_defaults["hang_seconds"] = HANG_SECONDS
        api = BackgroundServer(create_api(settings)).start()
        pool = WorkerPool(Processes(log_dir(tmp_path, request.node.name)), env)
        reader = create_async_engine(database_url, pool_pre_ping=True)
        stack = Stack(db, emulators, pool, api, env, ledger, random.Random(SEED), reader)
        built.append(stack)
        pool.start(workers)
        await asyncio.to_thread(pool.wait_ready)
        return stack

    yield build
    for stack in built:
        await stack.aclose()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(free_port())
    server.start()
    yield server
    server.stop()


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:2000]
