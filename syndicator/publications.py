"""Reading publications and retrying dead-lettered ones. Shared by the CLI and the API."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import Article, ChannelAccount, Publication, PublicationState
from syndicator.pipeline.policy import INTERNAL_ERROR
from syndicator.pipeline.records import mark


class PublicationError(Exception):
    """The request cannot be done to this publication; the message says why."""


async def list_publications(
    session: AsyncSession,
    *,
    state: str | None = None,
    article_id: int | None = None,
    limit: int = 100,
    unit_ids: Collection[int] | None = None,
) -> list[Publication]:
    """`unit_ids` (None: all) restricts the list to articles of those units (a caller's scope)."""
    query = select(Publication).order_by(col(Publication.id)).limit(limit)
    if unit_ids is not None:
        query = query.join(Article, col(Article.id) == col(Publication.article_id)).where(
            col(Article.unit_id).in_(sorted(unit_ids))
        )
    if state:
        query = query.where(Publication.state == state)
    if article_id is not None:
        query = query.where(Publication.article_id == article_id)
    return list((await session.exec(query)).all())


async def list_with_names(
    session: AsyncSession, *, state: str | None = None, limit: int = 100
) -> list[tuple[Publication, str, str, str]]:
    """(publication, article title, account name, platform), for people rather than scripts."""
    query = (
        select(Publication, Article.title, ChannelAccount.name, ChannelAccount.platform)
        .join(Article, col(Article.id) == col(Publication.article_id))
        .join(ChannelAccount, col(ChannelAccount.id) == col(Publication.account_id))
        .order_by(col(Publication.id))
        .limit(limit)
    )
    if state:
        query = query.where(Publication.state == state)
    return [(pub, title, name, platform) for pub, title, name, platform in (await session.exec(query)).all()]


async def retry_publication(session: AsyncSession, publication_id: int, *, actor: str) -> Publication:
    """Put a failed publication back to pending with fresh attempts; the caller enqueues it."""
    publication = await session.get(Publication, publication_id, with_for_update=True)
    if publication is None:
        raise PublicationError(f"no publication {publication_id}")
    if publication.state != PublicationState.FAILED:
        raise PublicationError(
            f"publication {publication_id} is {publication.state}; only failed ones can be retried"
        )
    # After an unexpected exception the platform may have taken the post: read back before sending.
    outcome_unknown = publication.error_code == INTERNAL_ERROR and publication.sent_at is not None
    previous_error = publication.error_message
    publication.attempts = 0
    publication.generation += 1  # a fresh arq job id
    publication.next_attempt_at = None
    state = PublicationState.SENDING if outcome_unknown else PublicationState.PENDING
    mark(session, publication, state, actor=actor, previous_error=previous_error)
    return publication


async def retry_failed_of_account(
    session: AsyncSession, account_id: int | None, *, actor: str
) -> list[Publication]:
    """Every failed publication of one account back to pending (after its settings were fixed)."""
    failed = (
        await session.exec(
            select(Publication.id).where(
                Publication.account_id == account_id, Publication.state == PublicationState.FAILED
            )
        )
    ).all()
    return [
        await retry_publication(session, publication_id, actor=actor)
        for publication_id in failed
        if publication_id is not None
    ]
