"""Enqueueing pipeline jobs on arq. Job ids are deterministic, so enqueueing twice is a no-op."""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from arq import ArqRedis
from arq.connections import RedisSettings, create_pool
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

PUBLISH_JOB = "publish_publication"
POLL_JOB = "poll_publication"
WITHDRAW_JOB = "withdraw_publication"
# A queued job that no worker started within this time is dropped by arq; the reconciler
# re-enqueues from the database, so this only bounds how long Redis keeps dead entries.
JOB_EXPIRES_SECONDS = 7 * 24 * 3600


async def connect(redis_url: str, queue_name: str) -> ArqRedis:
    settings = RedisSettings.from_dsn(redis_url)
    settings.conn_retries = 1  # fail fast: callers say Redis is down and how to start it
    return await create_pool(settings, default_queue_name=queue_name)


def publish_job_id(publication_id: int, generation: int) -> str:
    return f"publish:{publication_id}:{generation}"


def poll_job_id(publication_id: int, generation: int, suffix: str = "") -> str:
    return f"poll:{publication_id}:{generation}" + (f":{suffix}" if suffix else "")


async def enqueue_publish(
    redis: ArqRedis, publication_id: int, generation: int = 0, *, defer_until: datetime | None = None
) -> bool:
    job = await redis.enqueue_job(
        PUBLISH_JOB,
        publication_id,
        _job_id=publish_job_id(publication_id, generation),
        _defer_until=defer_until,
        _expires=JOB_EXPIRES_SECONDS,
    )
    return job is not None


async def enqueue_poll(
    redis: ArqRedis, publication_id: int, generation: int, *, defer_by: float, suffix: str = ""
) -> bool:
    """`suffix` gives a prompt read (a WeChat push) its own job beside the deferred regular poll."""
    job = await redis.enqueue_job(
        POLL_JOB,
        publication_id,
        _job_id=poll_job_id(publication_id, generation, suffix),
        _defer_by=defer_by,
        _expires=JOB_EXPIRES_SECONDS,
    )
    return job is not None


async def enqueue_withdraw(redis: ArqRedis, publication_id: int, generation: int) -> bool:
    job = await redis.enqueue_job(
        WITHDRAW_JOB,
        publication_id,
        _job_id=f"withdraw:{publication_id}:{generation}",
        _expires=JOB_EXPIRES_SECONDS,
    )
    return job is not None


async def enqueue_publish_all(
    redis: ArqRedis | None, publication_ids: list[int], *, job: str = PUBLISH_JOB
) -> int:
    """Best effort after a commit: if Redis is down the reconciler picks the publications up."""
    if redis is None or not publication_ids:
        return 0
    enqueue = enqueue_withdraw if job == WITHDRAW_JOB else enqueue_publish
    try:
        await asyncio.gather(*(enqueue(redis, publication_id, 0) for publication_id in publication_ids))
    except (RedisError, OSError) as exc:
        log.warning("enqueue_failed_reconciler_will_retry", error=str(exc), publications=publication_ids)
        return 0
    return len(publication_ids)
