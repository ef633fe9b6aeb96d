"""The consistency audit: is what each channel shows the version we hold as current?

For every post we believe is live it reads the channel back (`fetch_live`) and compares the text
with the current version rendered for that channel, after `comparable_text` folds away what
platforms legitimately change. Findings: missing (gone from the channel), stale (shows an older
version), altered (shows something we never sent), extra (live although withdrawn here).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import structlog
from sqlmodel import col, select

from channels.base import ChannelAdapter, ChannelError, CorrectionStrategy
from channels.html import comparable_text
from syndicator import audit
from syndicator.models import (
    Article,
    ArticleState,
    ArticleVersion,
    AuditEvent,
    ChannelAccount,
    Publication,
    PublicationState,
    Unit,
)
from syndicator.notify import notify
from syndicator.pipeline.context import PipelineDeps
from syndicator.pipeline.sending import article_content

log = structlog.get_logger(__name__)
ACTOR = "consistency-audit"


class DriftKind(StrEnum):
    MISSING = "missing"
    STALE = "stale"
    ALTERED = "altered"
    EXTRA = "extra"


DRIFT_LABELS = {
    DriftKind.MISSING: "渠道上已不存在",
    DriftKind.STALE: "渠道上仍是旧版本",
    DriftKind.ALTERED: "渠道上的内容被改动",
    DriftKind.EXTRA: "已撤回但渠道上仍可见",
}


@dataclass(frozen=True)
class Drift:
    kind: DriftKind
    publication_id: int
    article_id: int
    title: str
    platform: str
    account: str
    remote_id: str
    fixed: bool = False
    error: str | None = None


@dataclass(frozen=True)
class _Target:
    publication: Publication
    article: Article
    account: ChannelAccount
    unit: str
    versions: list[ArticleVersion]  # applied versions, oldest first


async def audit_consistency(deps: PipelineDeps, *, fix: bool = False) -> list[Drift]:
    drifts: list[Drift] = []
    for target in await _targets(deps):
        adapter = deps.adapter_for(target.account)
        try:
            drift = await _inspect(adapter, target)
            if drift is not None and fix:
                drift = await _fix(adapter, target, drift)
        except ChannelError as exc:  # a channel that cannot be read is reported, not guessed
            log.warning("consistency_read_failed", publication_id=target.publication.id, error=str(exc))
            continue
        if drift is not None:
            drifts.append(drift)
    await _record(deps, drifts, fix=fix)
    return drifts


async def _targets(deps: PipelineDeps) -> list[_Target]:
    async with deps.db.transaction() as session:
        rows = (
            await session.exec(
                select(Publication, Article, ChannelAccount, Unit)
                .join(Article, col(Article.id) == col(Publication.article_id))
                .join(ChannelAccount, col(ChannelAccount.id) == col(Publication.account_id))
                .join(Unit, col(Unit.id) == col(Article.unit_id))
                .where(
                    col(Publication.state).in_([PublicationState.PUBLISHED, PublicationState.WITHDRAWN]),
                    col(Publication.remote_id).is_not(None),
                )
                .order_by(col(Publication.id))
            )
        ).all()
        article_ids = {article.id for _, article, _, _ in rows}
        versions = (
            await session.exec(
                select(ArticleVersion)
                .where(col(ArticleVersion.article_id).in_(article_ids), ArticleVersion.status == "applied")
                .order_by(col(ArticleVersion.number))
            )
        ).all()
    by_article: dict[int, list[ArticleVersion]] = {}
    for version in versions:
        by_article.setdefault(version.article_id, []).append(version)
    return [_Target(p, a, acc, u.name, by_article.get(a.id or 0, [])) for p, a, acc, u in rows]


async def _inspect(adapter: ChannelAdapter, target: _Target) -> Drift | None:
    publication, article = target.publication, target.article
    live = await adapter.fetch_live(publication.remote_id or "")
    withdrawn = article.state == ArticleState.WITHDRAWN or publication.state == PublicationState.WITHDRAWN
    if withdrawn:
        return _drift(DriftKind.EXTRA, target) if live is not None else None
    if live is None:
        return _drift(DriftKind.MISSING, target)
    shown = comparable_text(live.body)
    rendered = [
        comparable_text(adapter.render(article_content(v, target.unit)).body) for v in target.versions
    ]
    if rendered and shown == rendered[-1]:
        return None
    return _drift(DriftKind.STALE if shown in rendered[:-1] else DriftKind.ALTERED, target)


def _drift(kind: DriftKind, target: _Target) -> Drift:
    return Drift(
        kind=kind,
        publication_id=target.publication.id or 0,
        article_id=target.article.id or 0,
        title=target.article.title,
        platform=target.account.platform,
        account=target.account.name,
        remote_id=target.publication.remote_id or "",
    )


async def _fix(adapter: ChannelAdapter, target: _Target, drift: Drift) -> Drift:
    """Re-sync one channel: remove what should be gone, send the current version where it is not."""
    remote_id = target.publication.remote_id or ""
    try:
        if drift.kind == DriftKind.EXTRA:
            await adapter.withdraw(remote_id)
            return _fixed(drift, remote_id)
        post = adapter.render(article_content(target.versions[-1], target.unit))
        key = f"{target.publication.key}:resync:{drift.kind}"
        if (
            drift.kind != DriftKind.MISSING
            and adapter.capabilities.correction == CorrectionStrategy.UPDATE_IN_PLACE
        ):
            result = await adapter.update(remote_id, post, key)
        else:
            if drift.kind != DriftKind.MISSING:
                await adapter.withdraw(remote_id)
            result = await adapter.publish(post, key)
        return _fixed(drift, result.remote_id)
    except ChannelError as exc:
        return Drift(**{**asdict(drift), "error": str(exc)})


def _fixed(drift: Drift, remote_id: str) -> Drift:
    return Drift(**{**asdict(drift), "fixed": True, "remote_id": remote_id})


async def _record(deps: PipelineDeps, drifts: list[Drift], *, fix: bool) -> None:
    async with deps.db.transaction() as session:
        for drift in drifts:
            publication = await session.get(Publication, drift.publication_id) if drift.fixed else None
            if publication is not None and drift.kind == DriftKind.EXTRA:
                publication.state = PublicationState.WITHDRAWN
            elif publication is not None:
                publication.remote_id = drift.remote_id
        audit.record(
            session,
            actor=ACTOR,
            action="consistency.report",
            object_type="audit",
            fix=fix,
            drifts=[{**asdict(d), "kind": str(d.kind)} for d in drifts],
        )
        for drift in drifts:
            await notify(
                session,
                key=f"consistency:{drift.publication_id}:{drift.kind}:{drift.remote_id}",
                chat_id=deps.settings.moderation_chat_id,
                text=_alert_text(drift),
            )


def _alert_text(drift: Drift) -> str:
    outcome = "已自动修复" if drift.fixed else ("修复失败：" + drift.error if drift.error else "请核查")
    return (
        f"⚠️ 内容一致性核查：《{drift.title}》在{drift.platform}（{drift.account}）"
        f"{DRIFT_LABELS[drift.kind]}。{outcome}"
    )


async def run_consistency_audit(ctx: dict[str, Any]) -> int:
    """The arq cron: report drift (and alert); fixing is an operator's decision (`audit --fix`)."""
    return len(await audit_consistency(ctx["deps"]))


async def latest_report(session: Any) -> dict[str, Any] | None:
    event = (
        await session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "consistency.report")
            .order_by(col(AuditEvent.id).desc())
        )
    ).first()
    return None if event is None else {"at": event.at.isoformat(), **event.detail}
