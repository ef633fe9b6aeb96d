"""Which accounts an article version goes to, and the publications that carry it there."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.config import get_settings
from syndicator.models import AccountStatus, Article, ArticleVersion, ChannelAccount, Publication, Unit


async def target_accounts(session: AsyncSession, unit: Unit) -> list[ChannelAccount]:
    """The unit's own active accounts, plus any accounts routed to it by configuration."""
    routed = get_settings().routing.get(unit.name, [])
    query = select(ChannelAccount).where(
        ChannelAccount.status == AccountStatus.ACTIVE,
        or_(col(ChannelAccount.unit_id) == unit.id, col(ChannelAccount.name).in_(routed)),
    )
    return list((await session.exec(query.order_by(col(ChannelAccount.id)))).all())


async def plan_publications(
    session: AsyncSession, article: Article, version: ArticleVersion, unit: Unit
) -> list[Publication]:
    assert article.id is not None and version.id is not None
    publications = [
        Publication(article_id=article.id, version_id=version.id, account_id=account.id)
        for account in await target_accounts(session, unit)
        if account.id is not None
    ]
    session.add_all(publications)
    await session.flush()
    return publications
