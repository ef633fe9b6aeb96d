"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when SYNDICATOR_TEST_DATABASE_URL is
set), a flushed Redis database, settings pointing at both, and the app emulator over real HTTP."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import syndicator.models  # noqa: F401  (registers every table)
from channels.app.emulator import create_app as create_app_emulator
from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database, open_database
from syndicator.migrate import upgrade

REDIS_SERVER = "redis://127.0.0.1:6379"
OWNER_KEY = "syndicator:test-run-owner"
INGEST_SECRET = "test-ingest-secret"
APP_SECRET = "test-app-secret"
APP_SECRET_ENV = "SYNDICATOR_TEST_APP_SECRET"

# Tiers (`pytest -m unit|integration|e2e`): set here, once, rather than by a mark in every file.
E2E_DIRS = frozenset({"faults", "e2e"})
UNIT_DIRS = frozenset({"unit", "checks"})
# A test that asks for one of these touches a real database, Redis or server: not a unit test.
REAL_PARTS = frozenset({"database_url", "redis_base_url", "app_emulator"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        top = item.path.relative_to(tests_dir).parts[0]
        fixtures = set(getattr(item, "fixturenames", ()))
        if top in E2E_DIRS:
            tier = "e2e"
        elif top in UNIT_DIRS and not fixtures & REAL_PARTS:
            tier = "unit"
        else:
            tier = "integration"
        item.add_marker(tier)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("SYNDICATOR_TEST_DATABASE_URL")
    if url:
        _drop_everything(url)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


def _drop_everything(url: str) -> None:
    """A PostgreSQL test database starts empty, so the migrations run from the first one."""

    async def drop() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(drop())


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    async with database.transaction() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):  # children before parents
            await session.exec(text(f'DELETE FROM "{table.name}"'))  # type: ignore[call-overload]
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def redis_base_url() -> Iterator[str]:
    """A Redis database of this test run's own, so concurrent runs on one machine never meet.

    arq's job keys ignore the queue name, so isolation has to be by database number: each run
    claims a free one with an owner key (which expires should the run be killed).
    """
    if configured := os.environ.get("SYNDICATOR_TEST_REDIS_URL"):
        yield configured
        return
    for number in range(9, 16):
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{number}")
        if client.set(OWNER_KEY, os.getpid(), nx=True, ex=3600):
            yield f"{REDIS_SERVER}/{number}"
            client.delete(OWNER_KEY)
            client.close()
            return
        client.close()
    pytest.exit("no free Redis database (9-15) for this test run", returncode=1)


@pytest.fixture
def redis_url(redis_base_url: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_base_url)
    owner = client.get(OWNER_KEY)
    # Flush and re-claim in one transaction: between the two, a concurrent run could take this database.
    with client.pipeline(transaction=True) as pipe:
        pipe.flushdb()
        if owner:
            pipe.set(OWNER_KEY, owner, ex=3600)
        pipe.execute()
    yield redis_base_url
    client.close()


@pytest.fixture
def settings(db: Database, database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(APP_SECRET_ENV, APP_SECRET)
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        ingest_secret=INGEST_SECRET,
        retry_base_seconds=0.01,
        retry_cap_seconds=0.05,
        channel_timeout_seconds=1.0,
        stuck_after_seconds=3600,
        async_publish_poll_seconds=0.05,
        publish_max_attempts=4,
    )


@pytest.fixture
def corpus_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "syndicator" / "demo" / "corpus"


@pytest.fixture
def app_emulator() -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app_emulator(APP_SECRET)) as server:
        yield server


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real API over HTTP on loopback."""
    with BackgroundServer(create_app(settings)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            yield client
