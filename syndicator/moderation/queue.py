"""Enqueueing moderation jobs. Job ids are deterministic, so enqueueing twice is a no-op."""

from __future__ import annotations

import hashlib

import structlog
from arq import ArqRedis
from redis.exceptions import RedisError

from syndicator.queue import enqueue_job

log = structlog.get_logger(__name__)

APPLY_JOB = "apply_decision"
APPLY_PAGE_JOB = "apply_decisions"
POLL_ACCOUNT_JOB = "poll_account_comments"
# A job no worker started within this time is dropped by arq; the reconciler re-enqueues.
JOB_EXPIRES_SECONDS = 24 * 3600


def apply_job_id(comment_id: int, revision: int, state: str) -> str:
    return f"comment-apply:{comment_id}:{revision}:{state}"


def poll_job_id(account_id: int) -> str:
    return f"comment-poll:{account_id}"


async def enqueue_apply(
    redis: ArqRedis | None, comment_id: int, revision: int, state: str, *, defer_seconds: float = 0
) -> bool:
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
            defer_by=defer_seconds or None,
        )
    except (RedisError, OSError) as exc:
        log.warning("comment_apply_enqueue_failed", comment_id=comment_id, error=str(exc))
        return False


async def enqueue_applies(redis: ArqRedis | None, decisions: list[tuple[int, int, str]]) -> bool:
    """A poll's decisions (its auto-rejected spam) as one job: one enqueue per comment cost a sixth
    of the intake. Best effort like `enqueue_apply`."""
    if redis is None or not decisions:
        return False
    digest = hashlib.sha256(repr(sorted(decisions)).encode()).hexdigest()[:24]
    try:
        return await enqueue_job(
            redis,
            APPLY_PAGE_JOB,
            [list(decision) for decision in decisions],
            job_id=f"comment-apply-page:{digest}",
            expires_seconds=JOB_EXPIRES_SECONDS,
        )
    except (RedisError, OSError) as exc:
        log.warning("comment_apply_enqueue_failed", comments=len(decisions), error=str(exc))
        return False


async def enqueue_poll(redis: ArqRedis, account_id: int) -> bool:
    return await enqueue_job(
        redis,
        POLL_ACCOUNT_JOB,
        account_id,
        job_id=poll_job_id(account_id),
        expires_seconds=JOB_EXPIRES_SECONDS,
    )
