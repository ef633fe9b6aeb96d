"""The consistency audit: is what each channel shows the version we hold as current?

For every post we believe is live it reads the channel back (`fetch_live`) and compares the text
with the current version rendered for that channel, after `comparable_text` folds away what
platforms legitimately change. Findings: missing (gone from the channel), stale (shows an older
version), altered (shows something we never sent), extra (live although withdrawn here) and
unreadable (the channel's answer could not be read: the audit cannot vouch for that post).

`--fix` never calls a platform itself: it puts the publication back on the one send path (a new
send, or a withdrawal) and queues its job, so a fix records intent, survives a crash or a Redis
flush, and ends like any publish: a WeChat fix is followed to its article_id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any
from uuid import uuid4

import structlog
from redis.exceptions import RedisError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import ChannelAdapter, ChannelError
from channels.html import comparable_text
from channels.redaction import redact
from syndicator import audit
from syndicator.context import WorkerContext
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
from syndicator.pipeline.records import REPLACES, mark
from syndicator.pipeline.sending import article_content
from syndicator.queue import enqueue_publish, enqueue_withdraw

log = structlog.get_logger(__name__)
ACTOR = "consistency-audit"
# WeChat puts access_token in the query string; transport errors quote the URL.


class DriftKind(StrEnum):
    MISSING = "missing"
    STALE = "stale"
    ALTERED = "altered"
    EXTRA = "extra"
    UNREADABLE = "unreadable"


DRIFT_LABELS = {
    DriftKind.MISSING: "渠道上已不存在",
    DriftKind.STALE: "渠道上仍是旧版本",
    DriftKind.ALTERED: "渠道上的内容被改动",
    DriftKind.EXTRA: "已撤回但渠道上仍可见",
    DriftKind.UNREADABLE: "无法读取，无法核对",
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
    # True once the fix is on the send path (its job queued); the job reports its own outcome.
    fixed: bool = False
    error: str | None = None
    # For `unreadable`: the platform's answer (or what was wrong with it), secrets removed.
    answer: str | None = None


@dataclass(frozen=True)
class _Target:
    publication: Publication
    article: Article
    account: ChannelAccount
    unit: str
    versions: list[ArticleVersion]  # applied versions, oldest first


async def audit_consistency(deps: WorkerContext, *, fix: bool = False) -> list[Drift]:
    drifts: list[Drift] = []
    for target in await _targets(deps):
        drift = await _inspect_one(deps, target)
        if drift is not None and fix and drift.kind != DriftKind.UNREADABLE:
            drift = await _fix(deps, target, drift)
        if drift is not None:
            drifts.append(drift)
    await _record(deps, drifts, fix=fix)
    return drifts


async def _targets(deps: WorkerContext) -> list[_Target]:
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


async def _inspect_one(deps: WorkerContext, target: _Target) -> Drift | None:
    """Each post on its own: an answer that cannot be read is a finding for this post, never the end."""
    try:
        return await _inspect(deps.adapter_for(target.account), target)
    except ChannelError as exc:
        answer = str(exc)
    except Exception as exc:  # a malformed answer (a missing field, a wrong type) is the platform's too
        answer = f"malformed answer: {type(exc).__name__}: {exc}"
    answer = redact(answer)
    log.warning("consistency_unreadable", publication_id=target.publication.id, answer=answer)
    return replace(_drift(DriftKind.UNREADABLE, target), answer=answer)


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


async def _fix(deps: WorkerContext, target: _Target, drift: Drift) -> Drift:
    """Put the publication back on the send path: withdrawn again, or sent again as a new post."""
    async with deps.db.transaction() as session:
        publication = await session.get(Publication, drift.publication_id, with_for_update=True)
        assert publication is not None
        if problem := _unfixable(publication, target, drift):
            return replace(drift, error=problem)
        if drift.kind == DriftKind.EXTRA:
            _resync(session, publication, PublicationState.WITHDRAWING, drift)
        else:
            _resend(session, publication, drift)
        generation = publication.generation
    try:
        if drift.kind == DriftKind.EXTRA:
            await enqueue_withdraw(deps.redis, drift.publication_id, generation)
        else:
            await enqueue_publish(deps.redis, drift.publication_id, generation)
    except (RedisError, OSError) as exc:  # recorded in the database: the reconciler queues it
        log.warning("consistency_fix_not_queued", publication_id=drift.publication_id, error=str(exc))
    return replace(drift, fixed=True)


def _unfixable(publication: Publication, target: _Target, drift: Drift) -> str | None:
    if publication.state != target.publication.state or publication.remote_id != drift.remote_id:
        return "the publication changed while it was audited: audit again"
    current = target.versions[-1].id if target.versions else None
    if drift.kind != DriftKind.EXTRA and publication.version_id != current:
        return "a newer version is being sent: audit again once it is published"
    return None


def _resend(session: AsyncSession, publication: Publication, drift: Drift) -> None:
    """A new post under a new idempotency key (the old key's answer is the old post), replacing the
    drifted one unless it is gone; `claim` and `send` do the rest like any correction."""
    publication.idempotency_key = uuid4().hex
    publication.remote_details = {} if drift.kind == DriftKind.MISSING else {REPLACES: drift.remote_id}
    publication.published_at = None  # set again when the new post is live (a WeChat one: polled)
    publication.attempts = 0
    publication.next_attempt_at = None
    _resync(session, publication, PublicationState.PENDING, drift)


def _resync(session: AsyncSession, publication: Publication, state: str, drift: Drift) -> None:
    publication.generation += 1  # a fresh job id: the earlier job's result may still be in Redis
    mark(session, publication, state, actor=ACTOR, drift=str(drift.kind))


async def _record(deps: WorkerContext, drifts: list[Drift], *, fix: bool) -> None:
    async with deps.db.transaction() as session:
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
    if drift.fixed:
        extra = drift.kind == DriftKind.EXTRA
        outcome = "已安排撤回。" if extra else "已安排重新发送（发布失败时另行通知）。"
    elif drift.error:
        outcome = f"未修复：{drift.error}"
    else:
        outcome = "请核查。"
    answer = f"（平台答复：{drift.answer}）" if drift.answer else ""
    return (
        f"⚠️ 内容一致性核查：《{drift.title}》在{drift.platform}（{drift.account}）"
        f"{DRIFT_LABELS[drift.kind]}{answer}。{outcome}"
    )


async def run_consistency_audit(ctx: dict[str, Any]) -> int:
    """The arq cron: report drift (and alert); fixing is an operator's decision (`audit --fix`)."""
    return len(await audit_consistency(ctx["context"]))


async def latest_report(session: Any) -> dict[str, Any] | None:
    event = (
        await session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "consistency.report")
            .order_by(col(AuditEvent.id).desc())
        )
    ).first()
    return None if event is None else {"at": event.at.isoformat(), **event.detail}
