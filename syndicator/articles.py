"""Ingesting portal articles: the wire schema, version ordering, and what gets fanned out.

A delivery is one of: a new article (version 1), a duplicate (same normalised content as a
stored version: nothing happens), a correction (new content: a new applied version), or a stale
version (older `updated_at` than the applied one: recorded, never applied).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field, HttpUrl
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import audit
from syndicator.checks.base import LinkStatus
from syndicator.models import Article, ArticleVersion, Attachment, Unit, VersionStatus, utcnow
from syndicator.obligations.service import open_item_from_article
from syndicator.pipeline.fanout import plan_publications
from syndicator.review import ReviewPolicy, alert_held, allowed_contacts, check_version, store_findings


class AttachmentIn(BaseModel):
    """An attachment the article carries; its name is checked for personal data too."""

    name: str = Field(min_length=1, max_length=300)
    url: HttpUrl | None = None


class ArticleIn(BaseModel):
    """An approved portal article, as the portal CMS sends it (see the corpus for examples)."""

    title: str = Field(min_length=1, max_length=500)
    external_id: str = Field(min_length=1, max_length=200)
    source_portal: str = Field(min_length=1, max_length=200)
    unit: str = Field(min_length=1, max_length=200)
    unit_level: str | None = None
    doc_number: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=100)
    published_at: AwareDatetime
    url: HttpUrl
    body_html: str = Field(min_length=1)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=100)
    updated_at: AwareDatetime | None = None
    obligation: bool = False
    # The portal user who submitted the article: role separation forbids them releasing it.
    submitted_by: str | None = Field(default=None, max_length=100)


class IngestStatus(StrEnum):
    CREATED = "created"
    CORRECTED = "corrected"
    DUPLICATE = "duplicate"
    STALE = "stale"
    HELD = "held"  # a pre-publish check blocked it: nothing is sent until a reviewer releases it


@dataclass
class IngestOutcome:
    article: Article
    version: ArticleVersion
    status: IngestStatus
    publication_ids: list[int] = field(default_factory=list)


class UnknownUnitError(Exception):
    def __init__(self, unit: str) -> None:
        super().__init__(f"unknown unit {unit!r}: register it first with `syndicator units add`")
        self.unit = unit


_WHITESPACE = re.compile(r"\s+")
_BETWEEN_TAGS = re.compile(r">\s+<")


def content_hash(payload: ArticleIn) -> str:
    """Hash of what readers see; whitespace-only differences are not a new version."""
    normalised = {
        "title": _WHITESPACE.sub(" ", payload.title).strip(),
        "doc_number": payload.doc_number,
        "category": payload.category,
        "url": str(payload.url),
        "body": _WHITESPACE.sub(" ", _BETWEEN_TAGS.sub("><", payload.body_html)).strip(),
    }
    return hashlib.sha256(json.dumps(normalised, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


async def ingest_article(
    session: AsyncSession,
    payload: ArticleIn,
    *,
    actor: str,
    source: str | None,
    review: ReviewPolicy,
    links: tuple[LinkStatus, ...] = (),
) -> IngestOutcome:
    """`links`: the statuses of the article's links, gathered before the transaction opened."""
    review = replace(review, links=links) if links else review
    unit = (await session.exec(select(Unit).where(Unit.name == payload.unit))).first()
    if unit is None:
        raise UnknownUnitError(payload.unit)
    digest = content_hash(payload)
    article = (
        await session.exec(
            select(Article)
            .where(Article.source_portal == payload.source_portal, Article.external_id == payload.external_id)
            .with_for_update()
        )
    ).first()
    if article is None:
        outcome = await _create_article(session, payload, unit, digest, review)
    else:
        outcome = await _add_version(session, article, payload, digest, review)
    if payload.obligation and outcome.status not in (IngestStatus.DUPLICATE, IngestStatus.STALE):
        await open_item_from_article(session, outcome.article, outcome.version, config=review.obligations)
    audit.record(
        session,
        actor=actor,
        action=f"article.{outcome.status}",
        object_type="article",
        object_id=outcome.article.id,
        source=source,
        version=outcome.version.number,
        publications=outcome.publication_ids,
    )
    return outcome


async def _create_article(
    session: AsyncSession, payload: ArticleIn, unit: Unit, digest: str, review: ReviewPolicy
) -> IngestOutcome:
    assert unit.id is not None
    article = Article(
        source_portal=payload.source_portal,
        external_id=payload.external_id,
        unit_id=unit.id,
        title=payload.title,
        url=str(payload.url),
        doc_number=payload.doc_number,
    )
    session.add(article)
    await session.flush()
    version = _new_version(article, payload, digest, number=1, status=VersionStatus.APPLIED)
    return await _review_then_fan_out(session, article, version, unit, review, IngestStatus.CREATED)


async def _review_then_fan_out(
    session: AsyncSession,
    article: Article,
    version: ArticleVersion,
    unit: Unit,
    review: ReviewPolicy,
    status: IngestStatus,
) -> IngestOutcome:
    report = check_version(
        version,
        article.source_portal,
        unit.name,
        review.wording,
        allowed_contacts(review, unit),
        review.links,
        review.link_severity,
    )
    session.add(version)
    await session.flush()
    store_findings(session, version, report)
    if report.held:
        await alert_held(session, version, article, report, review.alert_chat, public_url=review.public_url)
        return IngestOutcome(article, version, IngestStatus.HELD)
    publications = await plan_publications(session, article, version, unit)
    return IngestOutcome(article, version, status, [p.id for p in publications if p.id])


async def _add_version(
    session: AsyncSession, article: Article, payload: ArticleIn, digest: str, review: ReviewPolicy
) -> IngestOutcome:
    same = (
        await session.exec(
            select(ArticleVersion).where(
                ArticleVersion.article_id == article.id, ArticleVersion.content_hash == digest
            )
        )
    ).first()
    if same is not None:
        return IngestOutcome(article, same, IngestStatus.DUPLICATE)
    current = (
        await session.exec(
            select(ArticleVersion).where(
                ArticleVersion.article_id == article.id, ArticleVersion.number == article.current_version
            )
        )
    ).one()
    last_number = (
        await session.exec(
            select(func.max(ArticleVersion.number)).where(ArticleVersion.article_id == article.id)
        )
    ).one()
    if _is_older(payload.updated_at, current.source_updated_at):
        version = _new_version(article, payload, digest, number=last_number + 1, status=VersionStatus.STALE)
        session.add(version)
        await session.flush()
        return IngestOutcome(article, version, IngestStatus.STALE)
    version = _new_version(article, payload, digest, number=last_number + 1, status=VersionStatus.APPLIED)
    article.current_version = version.number
    article.title = payload.title
    article.url = str(payload.url)
    article.doc_number = payload.doc_number
    article.updated_at = utcnow()
    session.add(article)
    unit = await session.get(Unit, article.unit_id)
    assert unit is not None
    return await _review_then_fan_out(session, article, version, unit, review, IngestStatus.CORRECTED)


def _is_older(candidate: datetime | None, applied: datetime | None) -> bool:
    """Without `updated_at` on both sides, arrival order decides."""
    return candidate is not None and applied is not None and candidate.astimezone(UTC) < applied


def _new_version(
    article: Article, payload: ArticleIn, digest: str, *, number: int, status: VersionStatus
) -> ArticleVersion:
    assert article.id is not None
    return ArticleVersion(
        article_id=article.id,
        number=number,
        content_hash=digest,
        status=status,
        external_id=payload.external_id,
        title=payload.title,
        url=str(payload.url),
        published_at=payload.published_at,
        doc_number=payload.doc_number,
        category=payload.category,
        body_html=payload.body_html,
        attachments=[Attachment(name=a.name, url=str(a.url) if a.url else None) for a in payload.attachments],
        payload=payload.model_dump(mode="json"),
        source_updated_at=payload.updated_at,
        submitted_by=payload.submitted_by,
    )
