"""The HTTP API: the signed portal webhook, the token-protected REST API, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from redis.exceptions import RedisError

from syndicator.config import Settings
from syndicator.db import open_database
from syndicator.ingest.deps import ApiState
from syndicator.ingest.routes import articles, consistency, health, publications, reviews, wechat
from syndicator.linkcheck import link_checker
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
        app.state.api = ApiState(settings=settings, db=db, redis=redis, links=link_checker(settings, redis))
        yield
        if app.state.api.links is not None:
            await app.state.api.links.aclose()
        if redis is not None:
            await redis.aclose()
        await db.dispose()

    app = FastAPI(title="Syndicator", version="0.1.0", lifespan=lifespan)
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
