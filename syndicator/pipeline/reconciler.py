"""Re-enqueue publications the queue has lost track of.

The database is the source of truth. A Redis flush, a killed worker or an enqueue that failed
after commit all leave publications in pending/sending/submitted with no job; this cron finds
them and enqueues them again. Job ids are deterministic, so a publication whose job is still
queued or running is left alone (arq's enqueue returns None for an existing id).

A publication the reconciler has to re-enqueue pass after pass without any state change has a job
that dies before it records anything (a bug, a poisoned row): after `stalled_passes_limit` passes
it is failed with code `stalled` and the moderators' chat is told, instead of looping for ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from arq import ArqRedis
from sqlalchemy import or_, update
from sqlmodel import col, select

from syndicator.context import WorkerContext
from syndicator.db import Database
from syndicator.models import Publication, PublicationState, utcnow
from syndicator.pipeline.jobs import escalate_stalled
from syndicator.pipeline.policy import IN_FLIGHT_STATES
from syndicator.queue import enqueue_poll, enqueue_publish, enqueue_withdraw

log = structlog.get_logger(__name__)

BATCH = 500


async def reconcile_stuck(ctx: dict[str, Any]) -> int:
    deps: WorkerContext = ctx["context"]
    older_than = utcnow() - timedelta(seconds=deps.settings.stuck_after_seconds)
    return await requeue_stuck(
        deps.db,
        deps.redis,
        older_than=older_than,
        poll_delay=deps.settings.async_publish_poll_seconds,
        escalate_after=deps.settings.stalled_passes_limit,
        alert_chat=deps.settings.moderation_chat_id,
    )


async def requeue_stuck(
    db: Database,
    redis: ArqRedis,
    *,
    older_than: datetime,
    poll_delay: float,
    escalate_after: int | None = None,
    alert_chat: int | None = None,
) -> int:
    now = utcnow()
    async with db.transaction() as session:
        query = (
            select(Publication.id, Publication.state, Publication.generation, Publication.stalled_passes)
            .where(
                col(Publication.state).in_(IN_FLIGHT_STATES),
                Publication.updated_at < older_than,
                or_(col(Publication.next_attempt_at).is_(None), col(Publication.next_attempt_at) <= now),
            )
            .order_by(col(Publication.updated_at))
            .limit(BATCH)
        )
        rows = (await session.exec(query)).all()
    lost: list[int] = []
    for publication_id, state, generation, passes in rows:
        assert publication_id is not None  # a stored row has its key
        if escalate_after and passes >= escalate_after:
            async with db.transaction() as session:
                await escalate_stalled(session, publication_id, state, passes, alert_chat=alert_chat)
            continue
        if state == PublicationState.SUBMITTED:
            queued = await enqueue_poll(redis, publication_id, generation, defer_by=poll_delay)
        elif state == PublicationState.WITHDRAWING:
            queued = await enqueue_withdraw(redis, publication_id, generation)
        else:
            queued = await enqueue_publish(redis, publication_id, generation)
        if queued:
            lost.append(publication_id)
    if lost:
        log.info("reconciler_requeued", count=len(lost))
        async with db.transaction() as session:  # not updated_at: counting passes is not progress
            await session.exec(
                update(Publication)
                .where(col(Publication.id).in_(lost))
                .values(stalled_passes=Publication.stalled_passes + 1)
            )
    return len(lost)
