"""Re-enqueue publications the queue has lost track of.

The database is the source of truth. A Redis flush, a killed worker or an enqueue that failed
after commit all leave publications in pending/sending/submitted with no job; this cron finds
them and enqueues them again. Job ids are deterministic, so a publication whose job is still
queued or running is left alone (arq's enqueue returns None for an existing id).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from arq import ArqRedis
from sqlalchemy import or_
from sqlmodel import col, select

from syndicator.db import Database
from syndicator.models import Publication, PublicationState, utcnow
from syndicator.pipeline.context import PipelineDeps
from syndicator.pipeline.policy import IN_FLIGHT_STATES
from syndicator.queue import enqueue_poll, enqueue_publish, enqueue_withdraw

log = structlog.get_logger(__name__)

BATCH = 500


async def reconcile_stuck(ctx: dict[str, Any]) -> int:
    deps: PipelineDeps = ctx["deps"]
    older_than = utcnow() - timedelta(seconds=deps.settings.stuck_after_seconds)
    return await requeue_stuck(
        deps.db, deps.redis, older_than=older_than, poll_delay=deps.settings.async_publish_poll_seconds
    )


async def requeue_stuck(db: Database, redis: ArqRedis, *, older_than: datetime, poll_delay: float) -> int:
    now = utcnow()
    async with db.transaction() as session:
        query = (
            select(Publication.id, Publication.state, Publication.generation, Publication.next_attempt_at)
            .where(
                col(Publication.state).in_(IN_FLIGHT_STATES),
                Publication.updated_at < older_than,
                or_(col(Publication.next_attempt_at).is_(None), col(Publication.next_attempt_at) <= now),
            )
            .order_by(col(Publication.updated_at))
            .limit(BATCH)
        )
        rows = (await session.exec(query)).all()
    requeued = 0
    for publication_id, state, generation, _next_at in rows:
        if state == PublicationState.SUBMITTED:
            requeued += await enqueue_poll(redis, publication_id, generation, defer_by=poll_delay)
        elif state == PublicationState.WITHDRAWING:
            requeued += await enqueue_withdraw(redis, publication_id, generation)
        else:
            requeued += await enqueue_publish(redis, publication_id, generation)
    if requeued:
        log.info("reconciler_requeued", count=requeued)
    return requeued
