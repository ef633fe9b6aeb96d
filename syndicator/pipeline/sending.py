"""Claiming a publication for sending, and the remote calls that send it.

`claim` runs inside a transaction and records intent; `send` talks to the channel and touches
no database. The split is what makes a crash at any point safe (see jobs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import ArticleContent, ChannelAdapter, CorrectionStrategy, PublishResult
from syndicator.models import (
    Article,
    ArticleState,
    ArticleVersion,
    ChannelAccount,
    Publication,
    PublicationState,
    Unit,
    utcnow,
)
from syndicator.pipeline.records import REPLACES, mark


@dataclass(frozen=True)
class SendPlan:
    publication_id: int
    key: str
    account: ChannelAccount
    content: ArticleContent
    # True when an earlier attempt may have reached the platform: read back before sending.
    outcome_unknown: bool
    # What this send replaces: the older version this account shows (a correction), or a
    # post that drifted on the platform (the consistency fix, REPLACES).
    previous_id: int | None = None
    previous_remote_id: str | None = None
    # When the publication was made (the article's arrival): publish latency is measured from it.
    created_at: datetime | None = None
    # The article was withdrawn while this send's outcome was unknown: find the post so it can be
    # removed, never post it (`send` returns None when the platform has none).
    read_back_only: bool = False


async def claim(session: AsyncSession, publication_id: int) -> SendPlan | None:
    row = (
        await session.exec(
            # sqlmodel's select() is typed for at most four entities
            select(Publication, Article, ArticleVersion, ChannelAccount, Unit)  # type: ignore[call-overload]
            .join(Article, col(Article.id) == col(Publication.article_id))
            .join(ArticleVersion, col(ArticleVersion.id) == col(Publication.version_id))
            .join(ChannelAccount, col(ChannelAccount.id) == col(Publication.account_id))
            .join(Unit, col(Unit.id) == col(Article.unit_id))
            .where(Publication.id == publication_id)
            .with_for_update(of=Publication)
        )
    ).first()
    if row is None:
        return None
    publication, article, version, account, unit = row
    if publication.state not in (PublicationState.PENDING, PublicationState.SENDING):
        return None
    if skip_reason := _skip_reason(publication, article, version):
        state, code, message = skip_reason
        mark(session, publication, state, code=code, message=message)
        return None
    # Only a correction can replace something this account already shows.
    previous = await _live_previous(session, publication) if version.number > 1 else None
    outcome_unknown = publication.state == PublicationState.SENDING
    # Still `sending` here means an earlier attempt may have reached the platform (a withdrawn
    # article's pending publications were skipped above).
    read_back_only = article.state == ArticleState.WITHDRAWN
    publication.sent_at = utcnow()
    mark(session, publication, PublicationState.SENDING, outcome_unknown=outcome_unknown)
    return SendPlan(
        publication_id=publication_id,
        key=publication.key,
        account=account,
        content=article_content(version, unit.name),
        outcome_unknown=outcome_unknown,
        previous_id=previous.id if previous else None,
        previous_remote_id=previous.remote_id if previous else publication.remote_details.get(REPLACES),
        created_at=publication.created_at,
        read_back_only=read_back_only,
    )


def _skip_reason(
    publication: Publication, article: Article, version: ArticleVersion
) -> tuple[str, str, str] | None:
    """(state, code, message) when this publication must not be sent; None to go ahead."""
    if article.state == ArticleState.WITHDRAWN and publication.state == PublicationState.PENDING:
        return PublicationState.WITHDRAWN, "article_withdrawn", "the article was withdrawn before sending"
    # A publication that may already be live is sent (read back) so the correction can follow it.
    if version.number < article.current_version and publication.state == PublicationState.PENDING:
        return PublicationState.SUPERSEDED, "superseded", "a newer version arrived before this one was sent"
    # An inactive account is not a skip: the send fails as a typed failure (jobs._usable_adapter).
    return None


async def _live_previous(session: AsyncSession, publication: Publication) -> Publication | None:
    query = (
        select(Publication)
        .where(
            Publication.article_id == publication.article_id,
            Publication.account_id == publication.account_id,
            Publication.state == PublicationState.PUBLISHED,
            Publication.id != publication.id,
        )
        .order_by(col(Publication.id).desc())
    )
    return (await session.exec(query)).first()


def article_content(version: ArticleVersion, unit_name: str) -> ArticleContent:
    return ArticleContent(
        external_id=version.external_id,
        title=version.title,
        body_html=version.body_to_send,
        url=version.url,
        unit=unit_name,
        published_at=version.published_at,
        version=version.number,
        doc_number=version.doc_number,
        category=version.category,
    )


async def send(adapter: ChannelAdapter, plan: SendPlan) -> PublishResult | None:
    """The platform's answer; None only for a read-back that found no post."""
    post = adapter.render(plan.content)
    if plan.read_back_only:
        # The app reads back by repeating the keyed push (it answers with the original post): where
        # the first push never landed, that post appears and its removal follows at once.
        return await adapter.recover(post, plan.key)
    if plan.outcome_unknown and not adapter.capabilities.idempotent_publish:
        found = await adapter.recover(post, plan.key)
        if found is not None:
            return found
    if plan.previous_remote_id is None:
        return await adapter.publish(post, plan.key)
    strategy = adapter.capabilities.correction
    if strategy == CorrectionStrategy.UPDATE_IN_PLACE:
        return await adapter.update(plan.previous_remote_id, post, plan.key)
    if strategy == CorrectionStrategy.REPUBLISH:
        await adapter.withdraw(plan.previous_remote_id)  # withdraw is idempotent: gone is fine
    return await adapter.publish(post, plan.key)
