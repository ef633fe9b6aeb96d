"""Pre-publish review: every article version is checked before any channel sees it.

A version with a blocking finding is held: no publication is created and reviewers are told.
A reviewer releases it with a reason (audited; then it fans out) or rejects it. Role separation:
the portal editor who submitted the article cannot release it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import audit
from syndicator.checks.base import BLOCK, WARN, CheckInput, LinkStatus, Severity
from syndicator.checks.pii import normalize_contact
from syndicator.checks.runner import CheckReport, run_checks
from syndicator.checks.wording import WordingDictionary, load_wording
from syndicator.config import Settings
from syndicator.models import Article, ArticleVersion, CheckResult, ReviewState, Role, Unit, User, utcnow
from syndicator.notify import notify
from syndicator.obligations.config import ObligationConfig
from syndicator.obligations.config import from_settings as obligation_config
from syndicator.pipeline.fanout import plan_publications


class ReviewError(Exception):
    """The review action is not allowed; the message says why."""


@dataclass(frozen=True)
class ReviewPolicy:
    """What ingest needs besides the article: the wording dictionary, where to alert reviewers,
    and the obligation rules for articles pushed as upstream important policy."""

    wording: WordingDictionary
    alert_chat: int | None = None
    contact_allowlist: frozenset[str] = frozenset()
    obligations: ObligationConfig = field(default_factory=ObligationConfig)
    # The dashboard's public address: a held version's card links to its preview there.
    public_url: str | None = None
    link_severity: Severity = WARN  # what a dead link is (SYNDICATOR_LINK_CHECK)
    # The statuses of the article being ingested, gathered before its transaction (per call).
    links: tuple[LinkStatus, ...] = ()


def review_policy(settings: Settings) -> ReviewPolicy:
    return ReviewPolicy(
        wording=wording_dictionary(settings.wording_file),
        alert_chat=settings.moderation_chat_id,
        contact_allowlist=contact_allowlist(settings.contact_allowlist_file),
        obligations=obligation_config(settings),
        public_url=settings.dashboard_public_url,
        link_severity=BLOCK if settings.link_check == "block" else WARN,
    )


@dataclass(frozen=True)
class HeldVersion:
    version: ArticleVersion
    article: Article
    findings: list[CheckResult]


def wording_dictionary(office_file: Path | None) -> WordingDictionary:
    """The office's additions are re-read when the file changes: no restart, no code change."""
    mtime = office_file.stat().st_mtime if office_file and office_file.exists() else None
    return _cached_wording(office_file, mtime)


@lru_cache(maxsize=4)
def _cached_wording(office_file: Path | None, _mtime: float | None) -> WordingDictionary:
    return load_wording(office_file if _mtime is not None else None)


def contact_allowlist(path: Path | None) -> frozenset[str]:
    """The office's allow-list file, re-read when it changes (like the wording file)."""
    mtime = path.stat().st_mtime if path and path.exists() else None
    return _cached_allowlist(path, mtime)


@lru_cache(maxsize=4)
def _cached_allowlist(path: Path | None, _mtime: float | None) -> frozenset[str]:
    if path is None or _mtime is None:
        return frozenset()
    with path.open(encoding="utf-8-sig") as handle:
        values = (line.split("\t", 1)[0].strip() for line in handle if not line.lstrip().startswith("#"))
        return frozenset(normalize_contact(v) for v in values if v)


def allowed_contacts(review: ReviewPolicy, unit: Unit) -> frozenset[str]:
    """What the personal-data check lets through for this unit's articles."""
    return review.contact_allowlist | {normalize_contact(p) for p in unit.contact_phone_list}


def check_version(
    version: ArticleVersion,
    source_portal: str,
    unit_name: str,
    wording: WordingDictionary,
    allowed: frozenset[str] = frozenset(),
    links: tuple[LinkStatus, ...] = (),
    link_severity: Severity = WARN,
) -> CheckReport:
    """`allowed`: the unit's official contacts; `links`: the statuses of the version's links,
    gathered before (checks do no I/O)."""
    inp = CheckInput(
        title=version.title,
        body_html=version.body_html,
        doc_number=version.doc_number or None,
        url=version.url,
        source_portal=source_portal,
        unit=unit_name,
        attachments=tuple(a["name"] for a in version.attachments if a["name"]),
        allowed_contacts=allowed,
        links=links,
        link_severity=link_severity,
    )
    report = run_checks(inp, wording=wording)
    version.sanitized_html = report.sanitized_html
    version.review_state = ReviewState.HELD if report.held else ReviewState.CLEAR
    return report


def store_findings(session: AsyncSession, version: ArticleVersion, report: CheckReport) -> None:
    assert version.id is not None
    session.add_all(
        CheckResult(
            version_id=version.id,
            rule=f.rule,
            severity=f.severity,
            message=f.message,
            matched=f.matched[:2000],
            position=f.position,
            field=f.field,
        )
        for f in report.findings
    )


async def alert_held(
    session: AsyncSession,
    version: ArticleVersion,
    article: Article,
    report: CheckReport,
    chat_id: int | None,
    *,
    public_url: str | None = None,
) -> None:
    reasons = "；".join(f"{f.rule}「{f.matched[:20]}」" for f in report.blocking[:5])
    preview = (
        f"\n预览各平台效果：{public_url.rstrip('/')}/dashboard/preview/versions/{version.id}"
        if public_url
        else ""
    )
    await notify(
        session,
        key=f"version:{version.id}:held",
        chat_id=chat_id,
        text=f"⛔ 《{article.title}》第{version.number}版未通过发布前检查，已暂缓发布：{reasons}。"
        f"请审核后放行或驳回（syndicator review release/reject {version.id}）。{preview}",
        payload={"version_id": version.id},
    )


async def held_versions(session: AsyncSession) -> list[HeldVersion]:
    rows = (
        await session.exec(
            select(ArticleVersion, Article)
            .join(Article, col(Article.id) == col(ArticleVersion.article_id))
            .where(ArticleVersion.review_state == ReviewState.HELD)
            .order_by(col(ArticleVersion.id))
        )
    ).all()
    held = []
    for version, article in rows:
        findings = (await session.exec(select(CheckResult).where(CheckResult.version_id == version.id))).all()
        held.append(HeldVersion(version, article, list(findings)))
    return held


async def release_version(session: AsyncSession, version_id: int, reviewer: User, reason: str) -> list[int]:
    """Release a held version; returns the publications to enqueue."""
    version, article = await _held(session, version_id, reviewer, reason)
    if version.submitted_by and version.submitted_by == reviewer.name:
        raise ReviewError(
            f"{reviewer.name} submitted this article and cannot also release it (role separation)"
        )
    _decide(session, version, reviewer, ReviewState.RELEASED, reason)
    if version.number != article.current_version:
        return []  # a newer version has arrived since; releasing this one sends nothing
    unit = await session.get(Unit, article.unit_id)
    assert unit is not None
    return [p.id for p in await plan_publications(session, article, version, unit) if p.id]


async def reject_version(session: AsyncSession, version_id: int, reviewer: User, reason: str) -> None:
    version, _article = await _held(session, version_id, reviewer, reason)
    _decide(session, version, reviewer, ReviewState.REJECTED, reason)


async def _held(
    session: AsyncSession, version_id: int, reviewer: User, reason: str
) -> tuple[ArticleVersion, Article]:
    if Role.REVIEWER not in reviewer.role_set:
        raise ReviewError(f"{reviewer.name} does not hold the reviewer role")
    if not reason.strip():
        raise ReviewError("a reason is required")
    version = await session.get(ArticleVersion, version_id, with_for_update=True)
    if version is None:
        raise ReviewError(f"no article version {version_id}")
    if version.review_state != ReviewState.HELD:
        raise ReviewError(f"version {version_id} is {version.review_state}, not held")
    article = await session.get(Article, version.article_id)
    assert article is not None
    return version, article


def _decide(
    session: AsyncSession, version: ArticleVersion, reviewer: User, state: ReviewState, reason: str
) -> None:
    version.review_state = state
    version.reviewed_by = reviewer.id
    version.reviewed_at = utcnow()
    version.review_reason = reason
    audit.record(
        session,
        actor=f"user:{reviewer.name}",
        action=f"version.{state}",
        object_type="article_version",
        object_id=version.id,
        reason=reason,
    )
