"""arq worker: the fan-out jobs and the crons, with their shared clients built once per process."""

from __future__ import annotations

import time
from typing import Any

from arq import cron, func

from channels.http import make_http_client
from syndicator import events
from syndicator.config import Settings, get_settings
from syndicator.consistency import run_consistency_audit
from syndicator.db import open_database
from syndicator.events import PublicationPublished
from syndicator.linkrot import run_link_audit
from syndicator.moderation import jobs as moderation_jobs
from syndicator.obligations import jobs as obligation_jobs
from syndicator.obligations.fulfil import on_publication_published
from syndicator.pipeline.context import PipelineDeps
from syndicator.pipeline.jobs import poll_publication, publish_publication
from syndicator.pipeline.reconciler import reconcile_stuck
from syndicator.pipeline.withdrawal import withdraw_publication
from syndicator.queue import redis_settings

# Attempts are counted in the database (quota waits must not use them up), so arq's own
# try limit only guards against a runaway job.
ARQ_MAX_TRIES = 10_000


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    subscribe_events()
    ctx["deps"] = PipelineDeps(
        settings=settings,
        db=open_database(settings.database_url),
        redis=ctx["redis"],
        http=make_http_client(settings.channel_timeout_seconds),
        clock=ctx.get("clock", time.time),  # the quota's clock; tests hand in a fake one
    )


def subscribe_events() -> None:
    """Who acts on what the pipeline announces; only the worker publishes, so only it wires."""
    events.subscribe(PublicationPublished, on_publication_published)


async def shutdown(ctx: dict[str, Any]) -> None:
    deps: PipelineDeps | None = ctx.get("deps")
    if deps is not None:
        await deps.aclose()


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `arq.Worker`, so the CLI, tests and the demo build identical workers."""
    return {
        "functions": [
            func(publish_publication, keep_result=0, max_tries=ARQ_MAX_TRIES),
            func(poll_publication, keep_result=0, max_tries=ARQ_MAX_TRIES),
            func(withdraw_publication, keep_result=0, max_tries=ARQ_MAX_TRIES),
            *obligation_jobs.FUNCTIONS,
            *moderation_jobs.FUNCTIONS,
        ],
        "cron_jobs": [
            cron(reconcile_stuck, second={0, 30}, run_at_startup=True, unique=True),
            cron(
                run_consistency_audit,
                hour=settings.consistency_audit_hours,
                minute=0,
                unique=True,
                # arq holds every job of a killed worker for its longest timeout: keep this one no longer.
                timeout=settings.job_timeout_seconds,
            ),
            # Live posts' links re-checked once a day (Asia/Shanghai night), rot told to the chat.
            cron(run_link_audit, hour={3}, minute=30, unique=True, timeout=settings.job_timeout_seconds),
            *obligation_jobs.CRON_JOBS,
            *moderation_jobs.CRON_JOBS,
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": redis_settings(settings.redis_url),
        "queue_name": settings.queue_name,
        "ctx": {"settings": settings},
        "max_jobs": settings.worker_max_jobs,
        "poll_delay": settings.worker_poll_delay_seconds,
        "job_timeout": settings.job_timeout_seconds,
        "keep_result": 0,
    }
