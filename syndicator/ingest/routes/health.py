"""Liveness with dependencies (`/healthz`) and Prometheus metrics (`/metrics`)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import func
from sqlmodel import select

from syndicator.ingest.deps import StateDep
from syndicator.models import ChannelAccount, Publication
from syndicator.preflight import describe_schema, head_revisions, schema_revisions

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(state: StateDep) -> JSONResponse:
    checks = {"database": "ok", "schema": "ok", "redis": "ok"}
    try:
        # One query answers both: the database is up, and its schema is the one this code needs.
        current = await schema_revisions(state.db)
        checks["schema"] = describe_schema(current, head_revisions()) or "ok"
    except Exception as exc:  # any failure is the answer here
        checks["database"] = f"error: {type(exc).__name__}"
        checks["schema"] = "unknown"
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


@router.get("/metrics")
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
