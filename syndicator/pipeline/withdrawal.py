"""Withdrawing an article from every channel that shows it.

The request marks the article withdrawn and each live publication `withdrawing` in one
transaction; one job per publication then removes the post. A publication still being sent when
the request arrives is turned to `withdrawing` as soon as its send is recorded (see jobs.py).
"""

from __future__ import annotations

from typing import Any

import structlog
from arq import Retry
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import ChannelError, PermanentError, PublishResult, RateLimitedError
from syndicator import audit
from syndicator.context import WorkerContext
from syndicator.models import Article, ArticleState, Publication, PublicationState, utcnow
from syndicator.pipeline.policy import backoff_seconds
from syndicator.pipeline.records import load_for_job, mark, store_remote

log = structlog.get_logger(__name__)


class WithdrawalError(Exception):
    """The withdrawal cannot be requested; the message says why."""


class _PublishFailed(Exception):
    """The asynchronous publish being withdrawn failed on the platform: its post never went live."""

    def __init__(self, cause: PermanentError) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def request_withdrawal(
    session: AsyncSession, article_id: int, *, actor: str, source: str | None
) -> list[int]:
    """Mark the article withdrawn; returns the publications whose posts must now be removed."""
    article = await session.get(Article, article_id, with_for_update=True)
    if article is None:
        raise WithdrawalError(f"no article {article_id}")
    if article.state == ArticleState.WITHDRAWN:
        return []  # asking twice changes nothing
    article.state = ArticleState.WITHDRAWN
    article.updated_at = utcnow()
    to_remove: list[int] = []
    for publication in (
        await session.exec(select(Publication).where(Publication.article_id == article_id))
    ).all():
        if publication.state == PublicationState.PENDING:  # never sent: nothing to remove
            mark(session, publication, PublicationState.WITHDRAWN, actor=actor, source=source)
        elif publication.state in (PublicationState.PUBLISHED, PublicationState.SUBMITTED):
            mark(session, publication, PublicationState.WITHDRAWING, actor=actor, source=source)
            to_remove.append(publication.id or 0)
    audit.record(
        session,
        actor=actor,
        action="article.withdrawn",
        object_type="article",
        object_id=article_id,
        source=source,
        publications=to_remove,
    )
    return to_remove


async def withdraw_publication(ctx: dict[str, Any], publication_id: int) -> str:
    deps: WorkerContext = ctx["context"]
    loaded = await load_for_job(deps, publication_id, PublicationState.WITHDRAWING)
    if loaded is None:
        return "nothing to do"
    publication, account = loaded
    adapter = deps.adapter_for(account)
    if not adapter.capabilities.can_withdraw:
        return await _finish(
            deps,
            publication_id,
            PublicationState.PUBLISHED,
            "cannot_withdraw",
            f"{account.platform} offers no way to delete a post: remove it by hand",
        )
    try:
        remote_id = await _live_remote_id(deps, adapter, publication)
        if remote_id is None:  # still being published by the platform: wait for it to finish
            raise Retry(defer=deps.settings.async_publish_poll_seconds)
        await adapter.withdraw(remote_id)
    except _PublishFailed as failed:  # it ends as its poll would have: failed, with the platform's reason
        cause = failed.cause
        return await _finish(deps, publication_id, PublicationState.FAILED, cause.code, cause.message)
    except PermanentError as exc:
        return await _finish(deps, publication_id, PublicationState.PUBLISHED, "withdraw_failed", str(exc))
    except RateLimitedError as exc:
        raise Retry(defer=exc.retry_after) from exc
    except ChannelError as exc:
        log.info("withdraw_retry", publication_id=publication_id, error=str(exc))
        delay = backoff_seconds(
            ctx.get("job_try", 1), base=deps.settings.retry_base_seconds, cap=deps.settings.retry_cap_seconds
        )
        raise Retry(defer=delay) from exc
    return await _finish(deps, publication_id, PublicationState.WITHDRAWN, None, None)


async def _live_remote_id(deps: WorkerContext, adapter: Any, publication: Publication) -> str | None:
    """The id the platform deletes by; an asynchronous publication may not have one yet."""
    if publication.published_at is not None or not adapter.capabilities.asynchronous_publish:
        return publication.remote_id
    try:
        result = await adapter.check_status(
            PublishResult(
                remote_id=publication.remote_id or "", state="submitted", details=publication.remote_details
            )
        )
    except PermanentError as exc:
        raise _PublishFailed(exc) from exc
    if result.state != "published":
        return None
    # Completed like any publish (WeChat: the article_id, not the publish_id) before it is removed,
    # so a retried withdrawal and every later audit address the post itself.
    async with deps.db.transaction() as session:
        locked = await session.get(Publication, publication.id, with_for_update=True)
        assert locked is not None
        if locked.published_at is None and locked.state == PublicationState.WITHDRAWING:
            locked.published_at = utcnow()
            store_remote(locked, result)
            mark(session, locked, PublicationState.WITHDRAWING, remote_id=result.remote_id)
    return result.remote_id


async def _finish(
    deps: WorkerContext, publication_id: int, state: str, code: str | None, message: str | None
) -> str:
    async with deps.db.transaction() as session:
        publication = await session.get(Publication, publication_id, with_for_update=True)
        assert publication is not None
        if publication.state != PublicationState.WITHDRAWING:  # escalated meanwhile (reconciler)
            return publication.state
        mark(session, publication, state, code=code, message=message)
    log.info("publication_withdraw_finished", publication_id=publication_id, state=state, code=code)
    return state
