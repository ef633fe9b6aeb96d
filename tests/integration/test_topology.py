"""Beyond one machine: Redis Sentinel and several PostgreSQL hosts through settings, and a compose
file that runs any number of workers."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url

from syndicator.cli import app
from syndicator.config import Settings
from syndicator.queue import connect, enqueue_publish, redis_settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sentinel(redis_url: str, tmp_path: Path) -> Iterator[int]:
    """A real redis-sentinel watching the test Redis as master `syn`."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    master = urlsplit(redis_url)
    port = free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor syn {master.hostname} {master.port} 1\n"
    )
    process = subprocess.Popen([server, str(config), "--sentinel"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_the_queue_works_through_redis_sentinel(sentinel: int, redis_url: str) -> None:
    database = urlsplit(redis_url).path.strip("/")
    url = f"redis+sentinel://127.0.0.1:{sentinel}/syn/{database}"
    settings = redis_settings(url)
    assert settings.sentinel and settings.sentinel_master == "syn"
    redis = await connect(url, "syndicator:sentinel-test")
    try:
        assert await enqueue_publish(redis, 424242, 0)
        assert await redis.zcard("syndicator:sentinel-test") == 1
    finally:
        await redis.delete("syndicator:sentinel-test", "arq:job:publish:424242:0")
        await redis.aclose()


def test_several_postgresql_hosts_reach_asyncpg_as_a_host_list() -> None:
    url = Settings(
        database_url="postgresql://syn:pw@pg1:5432,pg2:5433/syndicator?target_session_attrs=read-write"
    ).database_url
    _, options = PGDialect_asyncpg().create_connect_args(make_url(url))
    assert options["host"] == ["pg1", "pg2"] and options["port"] == [5432, 5433]
    assert options["target_session_attrs"] == "read-write"


def test_compose_runs_any_number_of_workers_after_one_migration() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    worker = services["worker"]
    assert "ports" not in worker and "container_name" not in worker  # --scale worker=3 needs neither
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["syndicator", "db", "upgrade"]
    assert [name for name, s in services.items() if "ports" in s] == ["api"]
    # No service installs at start: three workers would run pip on one shared folder at once.
    assert not any("pip" in " ".join(s.get("command", [])) for s in services.values())
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    for name in ("api", "worker", "bot", "migrate"):
        assert services[name]["command"][1] in commands | {g.name for g in app.registered_groups}
        assert "postgresql://" in services[name]["environment"]["SYNDICATOR_DATABASE_URL"]
    assert "pip install" in (ROOT / "Dockerfile").read_text()
