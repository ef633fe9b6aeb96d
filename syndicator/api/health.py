"""Liveness with dependencies (`/healthz`) and Prometheus metrics (`/metrics`)."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel, ConfigDict, Field

from syndicator.api.deps import StateDep
from syndicator.metrics import collect
from syndicator.preflight import describe_schema, head_revisions, schema_revisions

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """`ok`, or what is wrong with each dependency."""

    model_config = ConfigDict(populate_by_name=True)

    status: str
    database: str
    schema_: str = Field(alias="schema")  # `schema` would shadow BaseModel.schema
    redis: str


DEGRADED = {"description": "a dependency is down (named in the body)", "model": Health}


@router.get("/healthz", response_model=Health, responses={503: DEGRADED})
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


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(state: StateDep) -> Response:
    """What an operator graphs and alerts on (syndicator/metrics.py; Grafana: deploy/grafana/)."""
    gathered = await collect(state.db, state.redis, state.settings.queue_name)
    registry = CollectorRegistry()
    registry.register(_Gathered(gathered))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _Gathered(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics
