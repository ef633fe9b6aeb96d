"""Upstream items and the targets they open: one per obligated unit account, due in 12 hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import insert, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import audit
from syndicator.models import (
    AccountStatus,
    Article,
    ArticleVersion,
    ChannelAccount,
    Obligation,
    ObligationState,
    Publication,
    Unit,
    UnitLevel,
    UpstreamItem,
    utcnow,
)
from syndicator.obligations.clock import deadline_for
from syndicator.obligations.config import ObligationConfig
from syndicator.obligations.fulfil import fulfil
from syndicator.obligations.scope import load_tree

log = structlog.get_logger(__name__)
ACTOR = "obligations"


@dataclass(frozen=True)
class ItemIn:
    source: str
    guid: str
    title: str
    url: str
    published_at: datetime
    important: bool
    doc_number: str | None = None
    category: str | None = None
    source_level: str = UnitLevel.NATIONAL


async def record_item(
    session: AsyncSession,
    item: ItemIn,
    *,
    source_unit_id: int | None,
    config: ObligationConfig,
    now: datetime,
) -> tuple[UpstreamItem, bool, int]:
    """Store an upstream item once (dedupe on source + guid); an important new one opens its targets.

    Returns the item, whether it is new, and how many targets it opened.
    """
    existing = await _find_item(session, item.source, item.guid)
    if existing is not None:
        return existing, False, 0
    row = UpstreamItem(
        source=item.source,
        guid=item.guid,
        title=item.title,
        url=item.url,
        doc_number=item.doc_number,
        category=item.category,
        source_level=item.source_level,
        important=item.important,
        published_at=item.published_at,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent poll stored it first
        found = await _find_item(session, item.source, item.guid)
        assert found is not None
        return found, False, 0
    audit.record(
        session,
        actor=ACTOR,
        action="upstream_item.recorded",
        object_type="upstream_item",
        object_id=row.id,
        source=item.source,
        important=item.important,
    )
    opened = await open_targets(session, row, source_unit_id=source_unit_id, config=config, now=now)
    return row, True, opened


async def _find_item(session: AsyncSession, source: str, guid: str) -> UpstreamItem | None:
    query = select(UpstreamItem).where(UpstreamItem.source == source, UpstreamItem.guid == guid)
    return (await session.exec(query)).first()


async def obligated_accounts(
    session: AsyncSession, *, source_level: str, source_unit_id: int | None, platforms: tuple[str, ...]
) -> list[tuple[int, int]]:
    """(unit id, account id) of every active account of an obligated unit.

    A national source obligates every unit below national level; any other source obligates the
    subordinates of its own unit (a province portal: that province's cities, counties, departments).
    """
    tree = await load_tree(session)
    if source_unit_id is not None and source_level != UnitLevel.NATIONAL:
        units = set(tree.descendants(source_unit_id, include_self=False))
    elif source_level == UnitLevel.NATIONAL:
        units = {u.id for u in tree.units.values() if u.level != UnitLevel.NATIONAL}
        if source_unit_id is not None:
            units.discard(source_unit_id)
    else:
        log.warning("obligation_source_unit_unknown", source_level=source_level)
        return []
    query = select(ChannelAccount.unit_id, ChannelAccount.id).where(
        ChannelAccount.status == AccountStatus.ACTIVE, col(ChannelAccount.platform).in_(platforms)
    )
    return [
        (unit_id, account_id)
        for unit_id, account_id in (await session.exec(query)).all()
        if unit_id in units and account_id is not None
    ]


async def open_targets(
    session: AsyncSession,
    item: UpstreamItem,
    *,
    source_unit_id: int | None,
    config: ObligationConfig,
    now: datetime,
) -> int:
    """Open the missing targets of an important item; reposts already published fulfil them at once."""
    if not item.important:
        return 0
    assert item.id is not None
    accounts = await obligated_accounts(
        session, source_level=item.source_level, source_unit_id=source_unit_id, platforms=config.platforms
    )
    have = set((await session.exec(select(Obligation.account_id).where(Obligation.item_id == item.id))).all())
    deadline = deadline_for(item.published_at, config.window)
    rows: list[dict[str, Any]] = [
        {
            "item_id": item.id,
            "unit_id": unit_id,
            "account_id": account_id,
            "deadline_at": deadline,
            "state": ObligationState.OPEN,
            "reminders_sent": [],
            "created_at": now,
            "updated_at": now,
        }
        for unit_id, account_id in accounts
        if account_id not in have
    ]
    for start in range(0, len(rows), 1000):
        await session.exec(insert(Obligation).values(rows[start : start + 1000]))
    if rows:
        audit.record(
            session,
            actor=ACTOR,
            action="obligation.opened",
            object_type="upstream_item",
            object_id=item.id,
            targets=len(rows),
            deadline=deadline.isoformat(),
        )
        log.info("obligations_opened", item_id=item.id, targets=len(rows))
        await _fulfil_from_earlier_publications(session, item, now=now)
    return len(rows)


async def _fulfil_from_earlier_publications(
    session: AsyncSession, item: UpstreamItem, *, now: datetime
) -> None:
    """A unit may have reposted through Syndicator before the item reached us."""
    same = [col(Article.url) == item.url]
    if item.doc_number:
        same.append(col(Article.doc_number) == item.doc_number)
    query = (
        select(Obligation, Publication)
        .join(Publication, col(Publication.account_id) == col(Obligation.account_id))
        .join(Article, col(Article.id) == col(Publication.article_id))
        .where(Obligation.item_id == item.id, col(Publication.published_at).is_not(None), or_(*same))
        .order_by(col(Publication.published_at))
    )
    for obligation, publication in (await session.exec(query)).all():
        assert publication.published_at is not None
        fulfil(
            session,
            obligation,
            at=publication.published_at,
            via="publication",
            now=now,
            publication_id=publication.id,
        )


async def open_item_from_article(
    session: AsyncSession,
    article: Article,
    version: ArticleVersion,
    *,
    config: ObligationConfig | None = None,
    now: datetime | None = None,
) -> UpstreamItem:
    """A portal article pushed with "obligation": true is an upstream item of its unit's level.

    Called by ingest in the ingest transaction; a later version of the same article is the same item.
    """
    unit = await session.get(Unit, article.unit_id)
    assert unit is not None and unit.id is not None
    item = ItemIn(
        source=article.source_portal,
        guid=f"article:{article.external_id}",
        title=article.title,
        url=article.url,
        published_at=version.published_at,
        important=True,
        doc_number=article.doc_number or version.doc_number,
        category=version.category,
        source_level=unit.level,
    )
    row, _, _ = await record_item(
        session, item, source_unit_id=unit.id, config=config or ObligationConfig(), now=now or utcnow()
    )
    return row
