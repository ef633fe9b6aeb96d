"""Fulfilling targets: a syndicated publication, a manual repost found on the channel, or evidence
recorded by an officer; and waivers. Late stays late: a fulfilled target is never fulfilled again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels import urls
from syndicator import audit
from syndicator.events import PublicationPublished
from syndicator.models import (
    Article,
    ArticleVersion,
    Obligation,
    ObligationState,
    Publication,
    UpstreamItem,
    User,
    utcnow,
)
from syndicator.obligations.clock import is_on_time
from syndicator.obligations.matching import ItemKey, RecentPost, match_reason
from syndicator.obligations.scope import ScopeError, check_in_scope, load_tree

ACTOR = "obligations"
PENDING = (ObligationState.OPEN, ObligationState.OVERDUE)
_TAGS = re.compile(r"<[^>]+>")


class ObligationError(Exception):
    """A request about an obligation that cannot be carried out; the message says why."""


def fulfil(
    session: AsyncSession,
    obligation: Obligation,
    *,
    at: datetime,
    via: str,
    now: datetime,
    actor: str = ACTOR,
    publication_id: int | None = None,
    evidence_url: str | None = None,
    note: str | None = None,
    decided_by: int | None = None,
) -> bool:
    """Mark a pending target fulfilled at `at`; `now` is when it became known. False if not pending."""
    if obligation.state not in PENDING:
        return False
    on_time = is_on_time(at, obligation.deadline_at)
    obligation.state = ObligationState.FULFILLED_ON_TIME if on_time else ObligationState.FULFILLED_LATE
    obligation.fulfilled_at = at
    obligation.fulfilled_via = via
    obligation.publication_id = publication_id
    obligation.evidence_url = evidence_url
    obligation.note = note
    obligation.decided_by = decided_by
    obligation.updated_at = now
    session.add(obligation)
    audit.record(
        session,
        actor=actor,
        action=f"obligation.{obligation.state}",
        object_type="obligation",
        object_id=obligation.id,
        via=via,
        fulfilled_at=at.isoformat(),
        publication_id=publication_id,
        evidence_url=evidence_url,
    )
    return True


async def _pending_on_account(
    session: AsyncSession, account_id: int
) -> list[tuple[Obligation, ItemKey, datetime]]:
    query = (
        select(Obligation, UpstreamItem)
        .join(UpstreamItem, col(UpstreamItem.id) == col(Obligation.item_id))
        .where(Obligation.account_id == account_id, col(Obligation.state).in_(PENDING))
        .order_by(col(Obligation.deadline_at))
        .with_for_update(of=Obligation)
    )
    return [
        (ob, ItemKey(item.id or 0, item.url, item.doc_number, item.title), item.published_at)
        for ob, item in (await session.exec(query)).all()
    ]


async def _has_pending(session: AsyncSession, account_id: int) -> bool:
    query = select(Obligation.id).where(
        Obligation.account_id == account_id, col(Obligation.state).in_(PENDING)
    )
    return (await session.exec(query.limit(1))).first() is not None


async def match_posts(
    session: AsyncSession,
    account_id: int,
    posts: Sequence[RecentPost],
    *,
    via: str,
    now: datetime,
    publication_id: int | None = None,
) -> list[int]:
    """Fulfil the account's pending targets that one of `posts` reposts; the earliest post counts."""
    fulfilled = []
    ordered = sorted(posts, key=lambda p: p.posted_at)
    for obligation, item, published_at in await _pending_on_account(session, account_id):
        post = next((p for p in ordered if p.posted_at >= published_at and match_reason(item, p)), None)
        if post is not None and fulfil(
            session,
            obligation,
            at=post.posted_at,
            via=via,
            now=now,
            publication_id=publication_id,
            evidence_url=post.url,
            note=f"matched by {match_reason(item, post)}",
        ):
            assert obligation.id is not None
            fulfilled.append(obligation.id)
    return fulfilled


async def detect_manual_reposts(
    session: AsyncSession, account_id: int, posts: Sequence[RecentPost], *, now: datetime | None = None
) -> list[int]:
    """Posts an adapter found on the account (made by hand, outside Syndicator) that repost an item."""
    return await match_posts(session, account_id, posts, via="manual_repost", now=now or utcnow())


async def fulfil_from_publication(
    session: AsyncSession, publication: Publication, *, now: datetime | None = None
) -> list[int]:
    """Called when a publication becomes published: it fulfils targets of the item it reposts.

    The article reposts an item when it is the item itself, or names its link, document number or title.
    """
    if publication.published_at is None or not await _has_pending(session, publication.account_id):
        return []  # the common case, answered with one indexed query
    article = await session.get(Article, publication.article_id)
    version = await session.get(ArticleVersion, publication.version_id)
    if article is None:
        return []
    body = version.body_html if version else ""
    post = RecentPost(
        title=article.title,
        url=article.url,
        text=" ".join(filter(None, [article.doc_number, _TAGS.sub(" ", body), body])),
        posted_at=publication.published_at,
    )
    return await match_posts(
        session,
        publication.account_id,
        [post],
        via="publication",
        now=now or utcnow(),
        publication_id=publication.id,
    )


async def on_publication_published(session: AsyncSession, event: PublicationPublished) -> None:
    """The `PublicationPublished` subscriber (wired in worker.startup), in the publishing transaction."""
    publication = await session.get(Publication, event.publication_id)
    if publication is not None:
        await fulfil_from_publication(session, publication)


async def _officer_target(session: AsyncSession, obligation_id: int, officer: User) -> Obligation:
    obligation = await session.get(Obligation, obligation_id, with_for_update=True)
    if obligation is None:
        raise ObligationError(f"obligation {obligation_id} does not exist")
    check_in_scope(await load_tree(session), officer, obligation.unit_id)
    return obligation


async def record_evidence(
    session: AsyncSession,
    obligation_id: int,
    *,
    officer: User,
    url: str,
    note: str,
    posted_at: datetime | None = None,
    now: datetime | None = None,
    source: str | None = None,
) -> Obligation:
    """An officer records where the repost is (URL) and when it was posted; audited."""
    now = now or utcnow()
    posted_at = posted_at or now
    obligation = await _officer_target(session, obligation_id, officer)
    try:  # judged as a browser reads it (channels.urls): "http:/x" or "evil\\@gov.cn" are not hosts
        url = urls.web_url(url).href
    except urls.BadUrl as exc:
        raise ObligationError("evidence needs the repost's http(s) URL") from exc
    if posted_at > now:
        raise ObligationError("the repost time cannot be in the future")
    if not fulfil(
        session,
        obligation,
        at=posted_at,
        via="evidence",
        now=now,
        actor=f"user:{officer.name}",
        evidence_url=url.strip(),
        note=note.strip() or None,
        decided_by=officer.id,
    ):
        raise ObligationError(f"obligation {obligation_id} is already {obligation.state}")
    audit.record(
        session,
        actor=f"user:{officer.name}",
        action="obligation.evidence_recorded",
        object_type="obligation",
        object_id=obligation_id,
        source=source,
        url=url,
        note=note,
    )
    return obligation


async def waive(
    session: AsyncSession,
    obligation_id: int,
    *,
    officer: User,
    reason: str,
    now: datetime | None = None,
    source: str | None = None,
) -> Obligation:
    """An officer waives a pending target, with a reason; audited. Fulfilled targets stay as they are."""
    if not reason.strip():
        raise ObligationError("a waiver needs a reason")
    now = now or utcnow()
    obligation = await _officer_target(session, obligation_id, officer)
    if obligation.state not in PENDING:
        raise ObligationError(f"obligation {obligation_id} is already {obligation.state}")
    obligation.state = ObligationState.WAIVED
    obligation.note = reason.strip()
    obligation.decided_by = officer.id
    obligation.updated_at = now
    session.add(obligation)
    audit.record(
        session,
        actor=f"user:{officer.name}",
        action="obligation.waived",
        object_type="obligation",
        object_id=obligation_id,
        source=source,
        reason=reason.strip(),
    )
    return obligation


__all__ = [
    "ObligationError",
    "ScopeError",
    "detect_manual_reposts",
    "fulfil",
    "fulfil_from_publication",
    "on_publication_published",
    "record_evidence",
    "waive",
]
