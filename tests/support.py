"""Helpers the tests share: seeding, signed deliveries, running a burst worker, reading emulators."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select

from channels.fetch import FetchPolicy, SafeFetcher
from syndicator import admin
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.demo.stack import ARTICLES_PATH, signed_delivery
from syndicator.models import Article, ArticleVersion, Publication, utcnow
from syndicator.worker import PipelineWorker, worker_settings
from tests.conftest import APP_SECRET_ENV, INGEST_SECRET

CORPUS = Path(__file__).resolve().parents[1] / "syndicator" / "demo" / "corpus"


def version_of(
    article: Article, *, content_hash: str = "h", body_html: str = "<p>正文</p>", **fields: Any
) -> ArticleVersion:
    """A version row for a seeded article: its typed content taken from the article."""
    assert article.id is not None
    return ArticleVersion(
        article_id=article.id,
        number=fields.pop("number", 1),
        content_hash=content_hash,
        external_id=article.external_id,
        title=article.title,
        url=article.url,
        published_at=fields.pop("published_at", utcnow()),
        doc_number=article.doc_number,
        body_html=body_html,
        payload={},
        **fields,
    )


def corpus_articles() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((CORPUS / "portal-articles").glob("*.json"))]


async def seed_units_with_app_accounts(db: Database, app_url: str, articles: list[dict[str, Any]]) -> None:
    async with db.transaction() as session:
        for unit in sorted({a["unit"] for a in articles}):
            level = next(a["unit_level"] for a in articles if a["unit"] == unit)
            await admin.add_unit(session, unit, level, None, actor="test")
            await admin.add_account(
                session,
                unit=unit,
                platform="app",
                name=f"{unit}-app",
                api_base_url=app_url,
                secret_env=APP_SECRET_ENV,
                actor="test",
            )


async def post_signed(
    client: httpx.AsyncClient,
    payload: dict[str, Any] | bytes,
    *,
    secret: str = INGEST_SECRET,
    now: float | None = None,
) -> httpx.Response:
    body, headers = signed_delivery(secret, payload, now)
    return await client.post(ARTICLES_PATH, content=body, headers=headers)


async def run_worker(settings: Settings, **overrides: Any) -> PipelineWorker:
    """Run a real arq worker on real Redis until the queue is empty."""
    worker = PipelineWorker(
        **{**worker_settings(settings), "burst": True, "poll_delay": 0, "handle_signals": False, **overrides}
    )
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker


async def publications(db: Database) -> list[Publication]:
    async with db.transaction() as session:
        return list((await session.exec(select(Publication).order_by(Publication.id))).all())


def emulator_state(base_url: str) -> dict[str, Any]:
    return httpx.get(f"{base_url}/_emulator/state").json()


def inject_faults(base_url: str, **plan: Any) -> None:
    httpx.post(f"{base_url}/_emulator/faults", json=plan).raise_for_status()


@asynccontextmanager
async def loopback_fetcher() -> AsyncIterator[SafeFetcher]:
    """The safe fetcher with the test-only allowance: the tests' servers listen on loopback."""
    fetcher = SafeFetcher(FetchPolicy(allow_loopback=True, timeout_seconds=5))
    try:
        yield fetcher
    finally:
        await fetcher.aclose()
