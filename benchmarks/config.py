"""Fixed names and numbers every benchmark shares (secrets here are throw-away test values)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
SYNDICATOR = ROOT / ".venv" / "bin" / "syndicator"
PY_SPY = ROOT / ".venv" / "bin" / "py-spy"
CORPUS_DIR = ROOT / "syndicator" / "demo" / "corpus" / "portal-articles"
COVER = ROOT / "syndicator" / "demo" / "cover.png"

PG_SERVER = "postgres@127.0.0.1:5432"
# Helpers benchmarking at once on one machine each set their own (the benchmarks drop this database).
DB_NAME = os.environ.get("SYNDICATOR_BENCH_DB", "syndicator_bench")
DATABASE_URL = f"postgresql+asyncpg://{PG_SERVER}/{DB_NAME}"
RAW_DATABASE_URL = f"postgresql://{PG_SERVER}/{DB_NAME}"
ADMIN_DATABASE_URL = f"postgresql://{PG_SERVER}/postgres"
# Leaves PostgreSQL's other 20 of 100 connections to the other sessions on this machine.
DB_CONNECTION_LIMIT = 80
REDIS_URL = os.environ.get("SYNDICATOR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
# Pub/sub (the workers' wake-up) ignores the database number: the queue name keeps runs apart.
QUEUE_NAME = f"syndicator:{DB_NAME}"

INGEST_SECRET = "bench-ingest-secret"
APP_SECRET = "bench-app-secret"
WECHAT_APP_ID = "wxbe4c4be4c4be4c4b"
WECHAT_SECRET = "bench-wechat-secret"
WEIBO_TOKEN = "bench-weibo-token"
SECRET_ENV = {
    "app": ("SYNDICATOR_BENCH_APP_SECRET", APP_SECRET),
    "wechat": ("SYNDICATOR_BENCH_WECHAT_SECRET", WECHAT_SECRET),
    "weibo": ("SYNDICATOR_BENCH_WEIBO_TOKEN", WEIBO_TOKEN),
}
PLATFORMS = ("app", "wechat", "weibo")

WECHAT_PUBLISH_DELAY_SECONDS = 0.2
WEIBO_HOURLY_LIMIT = 10_000_000
# The pipeline polls a submitted WeChat publish this often; the baseline waits the same.
POLL_SECONDS = 0.5
MAX_JOBS = 50  # SYNDICATOR_WORKER_MAX_JOBS, the production default
