"""Enqueueing moderation jobs. Job ids are deterministic, so enqueueing twice is a no-op."""

from __future__ import annotations

import asyncio

import structlog
from arq import ArqRedis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

APPLY_JOB = "apply_decision"
POLL_ACCOUNT_JOB = "poll_account_comments"
# A job no worker started within this time is dropped by arq; the reconciler re-enqueues.
JOB_EXPIRES_SECONDS = 24 * 3600


def apply_job_id(comment_id: int, revision: int, state: str) -> str:
    return f"comment-apply:{comment_id}:{revision}:{state}"


def poll_job_id(account_id: int) -> str:
    return f"comment-poll:{account_id}"


async def enqueue_apply(redis: ArqRedis | None, comment_id: int, revision: int, state: str) -> bool:
    """Best effort after the decision's commit: when Redis is down the reconciler cron catches up."""
    if redis is None:
        return False
    try:
        job = await redis.enqueue_job(
            APPLY_JOB,
            comment_id,
            revision,
            state,
            _job_id=apply_job_id(comment_id, revision, state),
            _expires=JOB_EXPIRES_SECONDS,
        )
    except (RedisError, OSError) as exc:
        log.warning("comment_apply_enqueue_failed", comment_id=comment_id, error=str(exc))
        return False
    return job is not None


async def enqueue_applies(
    redis: ArqRedis | None, decisions: list[tuple[int, int, str]], *, concurrency: int = 16
) -> None:
    """Many decisions at once (a page of spam), a few enqueues in flight: one each would wait for
    the round trips in turn, all at once would open a Redis connection per job."""
    gate = asyncio.Semaphore(concurrency)

    async def one(comment_id: int, revision: int, state: str) -> None:
        async with gate:
            await enqueue_apply(redis, comment_id, revision, state)

    await asyncio.gather(*(one(*decision) for decision in decisions))


async def enqueue_poll(redis: ArqRedis, account_id: int) -> bool:
    job = await redis.enqueue_job(
        POLL_ACCOUNT_JOB, account_id, _job_id=poll_job_id(account_id), _expires=JOB_EXPIRES_SECONDS
    )
    return job is not None
