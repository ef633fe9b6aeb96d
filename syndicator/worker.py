"""arq worker: the fan-out jobs and the crons, with their shared clients built once per process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog
from arq import Worker, cron, func
from redis.exceptions import RedisError

from channels.http import make_http_client
from syndicator import events
from syndicator.config import Settings, get_settings
from syndicator.consistency import run_consistency_audit
from syndicator.context import WorkerContext
from syndicator.db import open_database
from syndicator.events import PublicationPublished
from syndicator.linkrot import run_link_audit
from syndicator.moderation import jobs as moderation_jobs
from syndicator.obligations import jobs as obligation_jobs
from syndicator.obligations.fulfil import on_publication_published
from syndicator.pipeline.jobs import poll_publication, publish_publication
from syndicator.pipeline.reconciler import reconcile_stuck
from syndicator.pipeline.withdrawal import withdraw_publication
from syndicator.queue import redis_settings, wake_channel

# Attempts are counted in the database (quota waits must not use them up), so arq's own
# try limit only guards against a runaway job.
ARQ_MAX_TRIES = 10_000
# After a lost wake-up subscription, retry it this often (the timed look at the queue goes on).
RESUBSCRIBE_SECONDS = 5.0

log = structlog.get_logger(__name__)


class PipelineWorker(Worker):
    """arq's worker, asleep until an enqueue wakes it (`syndicator.queue` publishes on the wake
    channel), a due deferred job, a freed slot when it was full, or `idle_poll_seconds` at most.

    arq itself looks at the queue every `poll_delay`: 10 ms kept the queue's share of latency
    small but cost ~5 % of a core idle. Here arq's loop runs with no delay and the wait is after
    each look, in `_poll_iteration`; a burst worker (tests) never waits."""

    def __init__(self, *args: Any, idle_poll_seconds: float = 0.5, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "poll_delay": 0})
        self.idle_poll_seconds = idle_poll_seconds
        self._woken = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None

    async def _poll_iteration(self) -> None:
        self._woken.clear()  # before the look: an enqueue during it sets the event again
        started = self._jobs_started()
        await super()._poll_iteration()
        if self.burst or (self._jobs_started() > started and self.job_counter < self.max_jobs):
            return  # more may be due than one look read: look again at once
        await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen())
        timeout = min(self.idle_poll_seconds, await self._until_next_deferred())
        # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel (SIGTERM) that
        # arrives as the event is set, and the worker would not stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._woken.wait()

    async def _until_next_deferred(self) -> float:
        """Seconds until the earliest job deferred to the future is due (inf if none)."""
        now_ms = time.time() * 1000
        due = await self.pool.zrangebyscore(
            self.queue_name, min=f"({now_ms}", max="+inf", start=0, num=1, withscores=True
        )
        return max(0.0, (due[0][1] - now_ms) / 1000) if due else float("inf")

    async def _listen(self) -> None:
        """Set `_woken` on every message of the wake channel, for as long as the worker runs."""
        while True:
            try:
                async with self.pool.pubsub() as pubsub:
                    await pubsub.subscribe(wake_channel(self.queue_name))
                    async for _message in pubsub.listen():
                        self._woken.set()  # the subscribe answer too: catches up on the gap
            except (RedisError, OSError) as exc:
                log.warning("worker_wake_subscription_lost", error=str(exc))
                await asyncio.sleep(RESUBSCRIBE_SECONDS)

    def _release_sem_dec_counter_on_complete(self) -> None:
        full = self.job_counter >= self.max_jobs
        super()._release_sem_dec_counter_on_complete()
        if full:  # a queued job may be waiting for this slot
            self._woken.set()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._listener
            self._listener = None
        await super().close()


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    subscribe_events()
    ctx["context"] = WorkerContext(
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
    deps: WorkerContext | None = ctx.get("context")
    if deps is not None:
        await deps.aclose()


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `PipelineWorker`, so the CLI, tests and the demo build identical workers."""
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
        "idle_poll_seconds": settings.worker_poll_delay_seconds,
        "job_timeout": settings.job_timeout_seconds,
        "keep_result": 0,
    }
