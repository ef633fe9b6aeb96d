"""The HTTP API: the signed portal webhook, the token-protected REST API, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from redis.exceptions import RedisError

from syndicator.config import Settings
from syndicator.db import open_database
from syndicator.ingest.deps import EDGE_PROBLEMS, ApiState
from syndicator.ingest.edge import RequestEdge
from syndicator.ingest.routes import articles, consistency, health, publications, reviews, wechat
from syndicator.moderation import routes as comments
from syndicator.obligations import dashboard
from syndicator.obligations import routes as compliance
from syndicator.queue import connect

log = structlog.get_logger(__name__)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = open_database(settings.database_url)
        try:
            redis = await connect(settings.redis_url, settings.queue_name)
        except (RedisError, OSError) as exc:
            # Articles are still accepted and stored; the worker's reconciler enqueues them later.
            log.error("redis_unavailable", redis_url=settings.redis_url, error=str(exc))
            redis = None
        app.state.api = ApiState(settings=settings, db=db, redis=redis)
        yield
        if redis is not None:
            await redis.aclose()
        await db.dispose()

    app = FastAPI(title="Syndicator", version="0.1.0", lifespan=lifespan, responses=EDGE_PROBLEMS)
    app.add_middleware(
        RequestEdge,
        limit_for=body_limits(settings),
        read_timeout=settings.body_read_timeout_seconds,
    )
    for module in (
        articles,
        reviews,
        publications,
        comments,
        consistency,
        wechat,
        health,
        compliance,
        dashboard,
    ):
        app.include_router(module.router)
    return app


# Routes that take whole articles or comment batches; every other body is small.
LARGE_BODY_PATHS = frozenset({"/api/v1/articles", "/api/v1/channels/app/comments"})


def body_limits(settings: Settings) -> Callable[[str], int]:
    def limit_for(path: str) -> int:
        if path in LARGE_BODY_PATHS:
            return settings.ingest_max_body_bytes
        return settings.api_max_body_bytes

    return limit_for
