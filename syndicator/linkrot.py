"""The daily re-check of live posts' links (issue 19 §2): links rot after publishing, too.

For every article version that is live on some channel, the links it carries are probed afresh
(the cache is refreshed, not read) through the safe fetcher; what no longer works is written to
one audit row (`links.report`) and told to the moderators' chat, once per link and day. Called by
the worker cron `run_link_audit` (daily) and usable from the consistency audit.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import structlog
from sqlmodel import col, select

from syndicator import audit
from syndicator.checks.links import link_targets
from syndicator.context import WorkerContext
from syndicator.linkcheck import LinkChecker, not_working
from syndicator.models import Article, ArticleVersion, Publication, PublicationState, utcnow
from syndicator.notify import notify

log = structlog.get_logger(__name__)
ACTOR = "link-audit"
STATE_LABELS = {
    "broken": "已失效",
    "dns_failure": "域名无法解析",
    "offsite_redirect": "跳转到了其他网站",
    "refused": "无法从互联网访问",
}


@dataclass(frozen=True)
class LinkRot:
    article_id: int
    title: str
    url: str
    state: str
    detail: str


async def audit_live_links(deps: WorkerContext) -> list[LinkRot]:
    checker = LinkChecker(
        deps.fetcher,
        deps.redis,
        ttl_seconds=deps.settings.link_check_cache_seconds,
        timeout_seconds=deps.settings.link_check_timeout_seconds,
    )
    rot: list[LinkRot] = []
    for article, version in await _live_versions(deps):
        statuses = await checker.statuses(link_targets(version.body_to_send, article.url), fresh=True)
        assert article.id is not None
        rot += [LinkRot(article.id, article.title, s.url, s.state, s.detail) for s in not_working(statuses)]
    await _record(deps, rot)
    log.info("link_audit_done", rotten=len(rot))
    return rot


async def run_link_audit(ctx: dict[str, Any]) -> int:
    """The arq cron (daily)."""
    return len(await audit_live_links(ctx["context"]))


async def _live_versions(deps: WorkerContext) -> list[tuple[Article, ArticleVersion]]:
    """Each version that some channel shows now (published), once."""
    async with deps.db.transaction() as session:
        rows = (
            await session.exec(
                select(Article, ArticleVersion)
                .join(ArticleVersion, col(ArticleVersion.article_id) == col(Article.id))
                .where(
                    col(ArticleVersion.id).in_(
                        select(Publication.version_id).where(Publication.state == PublicationState.PUBLISHED)
                    )
                )
                .order_by(col(ArticleVersion.id))
            )
        ).all()
    return [(article, version) for article, version in rows]


async def _record(deps: WorkerContext, rot: list[LinkRot]) -> None:
    day = utcnow().date().isoformat()
    async with deps.db.transaction() as session:
        audit.record(
            session, actor=ACTOR, action="links.report", object_type="audit", rot=[asdict(r) for r in rot]
        )
        for item in rot:
            await notify(
                session,
                key=f"linkrot:{item.article_id}:{hashlib.sha256(item.url.encode()).hexdigest()[:16]}:{day}",
                chat_id=deps.settings.moderation_chat_id,
                text=f"🔗 链接核查：《{item.title}》中的链接 {item.url} {STATE_LABELS[item.state]}"
                f"（{item.detail}），请联系网站更正。",
            )
