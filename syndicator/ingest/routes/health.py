"""Liveness with dependencies (`/healthz`) and Prometheus metrics (`/metrics`)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import func, text
from sqlmodel import select

from syndicator.ingest.deps import StateDep
from syndicator.models import ChannelAccount, Publication

router = APIRouter(tags=["health"])


DEGRADED = {"description": "a dependency is down (named in the body)", "content": {"application/json": {}}}


@router.get("/healthz", responses={503: DEGRADED})
async def healthz(state: StateDep) -> JSONResponse:
    checks = {"database": "ok", "redis": "ok"}
    try:
        async with state.db.transaction() as session:
            await session.exec(select(text("1")))  # type: ignore[call-overload]
    except Exception as exc:  # any failure is the answer here
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        if state.redis is None:
            raise ConnectionError("not connected")
        await state.redis.ping()
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503
    )


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(state: StateDep) -> Response:
    """Publication counts by platform and state, read from the database (the source of truth)."""
    registry = CollectorRegistry()
    gauge = Gauge(
        "syndicator_publications",
        "Publications by platform and state",
        ["platform", "state"],
        registry=registry,
    )
    async with state.db.transaction() as session:
        rows = await session.exec(
            select(ChannelAccount.platform, Publication.state, func.count())
            .join(ChannelAccount, ChannelAccount.id == Publication.account_id)  # type: ignore[arg-type]
            .group_by(ChannelAccount.platform, Publication.state)
        )
        for platform, publication_state, count in rows.all():
            gauge.labels(platform=platform, state=publication_state).set(count)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
