"""The FastAPI app: every route of syndicator/api/ (one module per feature) behind the request edge."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from redis.exceptions import RedisError

from syndicator.api import (
    articles,
    comments,
    compliance,
    consistency,
    dashboard,
    desk,
    health,
    preview,
    preview_page,
    publications,
    reviews,
    wechat_callback,
    wecom_callback,
)
from syndicator.api.deps import EDGE_PROBLEMS, ApiState
from syndicator.api.edge import RequestEdge
from syndicator.config import Settings
from syndicator.db import open_database
from syndicator.linkcheck import link_checker
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

    # /docs from packaged assets: intranet offices have no CDN (FastAPI's "self-hosting JavaScript
    # and CSS for docs" recipe, fastapi.tiangolo.com/how-to/custom-docs-ui-assets/).
    app = FastAPI(
        title="Syndicator",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        responses=EDGE_PROBLEMS,
    )
    add_offline_docs(app)
    app.add_middleware(
        RequestEdge,
        limit_for=body_limits(settings),
        read_timeout=settings.body_read_timeout_seconds,
    )
    for module in (
        articles,
        reviews,
        preview,
        publications,
        comments,
        consistency,
        wechat_callback,
        wecom_callback,
        health,
        compliance,
        dashboard,
        desk,
        preview_page,
    ):
        app.include_router(module.router)
    return app


SWAGGER_STATIC = "/static/swagger-ui"
# swagger-ui-py ships Swagger UI 5 (FastAPI's OpenAPI 3.1 needs 5; swagger-ui-bundle has only 4).
# swagger-ui-py is a dependency (pyproject.toml), so its spec is never None.
SWAGGER_ASSETS = Path(importlib.util.find_spec("swagger_ui").origin or "").parent / "static"  # type: ignore[union-attr]


def add_offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs, its JavaScript and CSS served from the swagger-ui-py package."""
    app.mount(SWAGGER_STATIC, StaticFiles(directory=SWAGGER_ASSETS), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{SWAGGER_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_STATIC}/favicon-32x32.png",
            # Swagger UI would fetch a validity badge from validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


# Routes that take whole articles or comment batches; every other body is small.
LARGE_BODY_PATHS = frozenset({"/api/v1/articles", "/api/v1/channels/app/comments"})


def body_limits(settings: Settings) -> Callable[[str], int]:
    def limit_for(path: str) -> int:
        if path in LARGE_BODY_PATHS:
            return settings.ingest_max_body_bytes
        return settings.api_max_body_bytes

    return limit_for
