"""Enqueueing moderation jobs. Job ids are deterministic, so enqueueing twice is a no-op."""

from __future__ import annotations

import structlog
from arq import ArqRedis
from redis.exceptions import RedisError

from syndicator.queue import enqueue_job, enqueue_jobs

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
        return await enqueue_job(
            redis,
            APPLY_JOB,
            comment_id,
            revision,
            state,
            job_id=apply_job_id(comment_id, revision, state),
            expires_seconds=JOB_EXPIRES_SECONDS,
        )
    except (RedisError, OSError) as exc:
        log.warning("comment_apply_enqueue_failed", comment_id=comment_id, error=str(exc))
        return False


async def enqueue_applies(redis: ArqRedis | None, decisions: list[tuple[int, int, str]]) -> None:
    """Many decisions at once (a page of spam) in one pipeline round trip; best effort like one."""
    if redis is None or not decisions:
        return
    jobs = {apply_job_id(*decision): decision for decision in decisions}
    try:
        await enqueue_jobs(redis, APPLY_JOB, jobs, expires_seconds=JOB_EXPIRES_SECONDS)
    except (RedisError, OSError) as exc:
        log.warning("comment_apply_enqueue_failed", comments=[d[0] for d in decisions], error=str(exc))


async def enqueue_poll(redis: ArqRedis, account_id: int) -> bool:
    return await enqueue_job(
        redis,
        POLL_ACCOUNT_JOB,
        account_id,
        job_id=poll_job_id(account_id),
        expires_seconds=JOB_EXPIRES_SECONDS,
    )
