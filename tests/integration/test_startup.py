"""Startup failures are one line naming the setting and the fix; outages are ridden out."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs
from typer.testing import CliRunner

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.cli import app
from syndicator.config import Settings, async_database_url, get_settings
from syndicator.preflight import missing_secrets
from syndicator.resilience import Outage, run_worker_forever, wait_until_available
from syndicator.worker import PipelineWorker, worker_settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def run(monkeypatch):
    def invoke(database_url: str, *args: str):
        monkeypatch.setenv("SYNDICATOR_DATABASE_URL", database_url)
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(app, list(args))
        finally:
            get_settings.cache_clear()

    return invoke


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db/syn", "postgresql+asyncpg://u:p@db/syn"),
        ("postgresql://u@db:5432/syn", "postgresql+asyncpg://u@db:5432/syn"),
        (
            "postgresql://u@pg1:5432,pg2:5432/syn?target_session_attrs=read-write",
            "postgresql+asyncpg://u@/syn?host=pg1:5432&host=pg2:5432&target_session_attrs=read-write",
        ),
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
        ("postgresql+asyncpg://u@db/syn", "postgresql+asyncpg://u@db/syn"),
    ],
)
def test_plain_database_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert async_database_url(given) == expected
    assert Settings(database_url=given).database_url == expected


@pytest.mark.parametrize("command", [("serve",), ("worker",), ("bot",)])
def test_processes_refuse_a_database_without_the_schema(run, tmp_path: Path, command) -> None:
    line = one_line_error(run(f"sqlite:///{tmp_path / 'empty.db'}", *command))
    assert "syndicator db upgrade" in line


def test_db_upgrade_says_what_it_applied(run, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = run(url, "db", "upgrade")
    assert first.exit_code == 0 and "applied 0001 initial schema" in first.output
    assert "nothing to apply" in run(url, "db", "upgrade").output


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("nonsense://what", "not a usable database URL"),
        (f"postgresql://syn:secret@127.0.0.1:{closed_port()}/syn", "cannot reach the database"),
        ("sqlite:////nonexistent-dir/x/syndicator.db", "SQLite file"),
    ],
)
def test_unusable_databases_are_one_line_naming_the_setting(run, url: str, words: str) -> None:
    line = one_line_error(run(url, "worker"))
    assert words in line and "SYNDICATOR_DATABASE_URL" in line
    assert "secret" not in line  # the password is masked


def test_a_missing_postgresql_database_is_named(run) -> None:
    if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode != 0:
        pytest.skip("no PostgreSQL on 127.0.0.1")
    line = one_line_error(run("postgresql://postgres@127.0.0.1:5432/no_such_database_here", "worker"))
    assert "'no_such_database_here' does not exist" in line and "createdb" in line


async def test_healthz_is_503_on_a_database_without_the_schema(tmp_path: Path, redis_url: str) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", redis_url=redis_url)
    with BackgroundServer(create_app(settings)) as server:
        response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 503
    assert "syndicator db upgrade" in response.json()["schema"]


async def test_healthz_reports_the_schema_ok(api) -> None:
    answer = (await api.get("/healthz")).json()
    assert answer["schema"] == "ok"


def test_serve_warns_per_missing_secret() -> None:
    warnings = missing_secrets(Settings(ingest_secret=""), "serve")
    assert any(w.startswith("SYNDICATOR_INGEST_SECRET") for w in warnings)
    assert not any("INGEST" in w for w in missing_secrets(Settings(ingest_secret="x"), "serve"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Enough(Exception):
    pass


async def test_the_worker_rides_out_redis_being_away_with_a_line_a_minute(settings) -> None:
    settings.redis_url = f"redis://127.0.0.1:{closed_port()}/0"
    clock = FakeClock()
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        clock.now += seconds
        if len(delays) == 12:
            raise Enough

    def make_worker() -> PipelineWorker:
        options = worker_settings(settings)
        options["redis_settings"].conn_retries = 0
        return PipelineWorker(**{**options, "handle_signals": False})

    with capture_logs() as logs, pytest.raises(Enough):
        await run_worker_forever(make_worker, outage=Outage("redis", clock=clock), sleep=sleep)
    assert delays[:5] == [1, 2, 4, 8, 16] and max(delays) == 30  # backoff, capped
    lines = [entry for entry in logs if entry["event"] == "redis_unavailable"]
    assert 1 < len(lines) <= clock.now / 60 + 1  # about one a minute, not one per attempt


async def test_the_bot_waits_for_telegram_instead_of_exiting() -> None:
    clock = FakeClock()
    answers = iter([ConnectionError("down"), ConnectionError("down"), "me"])

    async def probe() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    with capture_logs() as logs:
        me = await wait_until_available(
            probe, Outage("telegram", clock=clock), errors=(ConnectionError,), sleep=sleep
        )
    assert me == "me"
    assert [e["event"] for e in logs] == ["telegram_unavailable", "telegram_recovered"]
