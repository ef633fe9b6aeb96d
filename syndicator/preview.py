"""What each channel would show for an article, and what the pre-publish checks say: stores and
sends nothing. Editors preview a draft (`POST /api/v1/preview`, the dashboard's preview page);
reviewers preview a held version from its chat card.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.app.adapter import _push_body as app_payload  # the app's wire body, as sent
from channels.app.render import render_article as render_app
from channels.base import ArticleContent, ChannelError
from channels.wechat.render import TITLE_MAX_CHARS
from channels.wechat.render import render_article as render_wechat
from channels.weibo.render import render_status
from channels.weibo.text import MAX_STATUS_LENGTH, weibo_length
from syndicator.articles import ArticleIn
from syndicator.checks.base import CheckInput
from syndicator.checks.report import verdict
from syndicator.checks.runner import run_checks
from syndicator.checks.wording import WordingDictionary
from syndicator.models import AccountStatus, Article, ArticleVersion, ChannelAccount, Unit
from syndicator.obligations.scope import load_tree


class CheckOut(BaseModel):
    verdict: str = Field(description="clean | warnings | held")
    held: bool
    findings: list[dict[str, Any]]


class WeChatOut(BaseModel):
    title: str = Field(description="the title as WeChat will show it (cut to 32 characters by the rule)")
    title_cut: bool
    digest: str
    cover: str | None = Field(description="the image WeChat will use as cover, None: publishing would fail")
    cover_source: str = Field(description="article_image | account_default | none")
    body_html: str
    error: str | None = None


class WeiboOut(BaseModel):
    text: str
    weibo_length: int = Field(description="length counted Weibo's way (a link counts as a short link)")
    limit: int = MAX_STATUS_LENGTH
    image: str | None = None
    error: str | None = None


class AppOut(BaseModel):
    payload: dict[str, Any] = Field(description="the body pushed to the app backend")
    error: str | None = None


class Preview(BaseModel):
    checks: CheckOut
    wechat: WeChatOut
    weibo: WeiboOut
    app: AppOut


def preview_article(
    article: ArticleIn, *, wording: WordingDictionary, default_cover: str | None = None, version: int = 1
) -> Preview:
    """Pure: the checks, then each channel's rendering of the body the checks sanitised."""
    report = run_checks(CheckInput.from_article(article.model_dump(mode="json")), wording=wording)
    content = ArticleContent(
        external_id=article.external_id,
        title=article.title,
        body_html=report.sanitized_html,  # channels only ever get the sanitised body
        url=str(article.url),
        unit=article.unit,
        published_at=article.published_at,
        version=version,
        doc_number=article.doc_number,
        category=article.category,
    )
    return Preview(
        checks=CheckOut(
            verdict=verdict(report), held=report.held, findings=[asdict(f) for f in report.findings]
        ),
        wechat=_wechat(content, default_cover),
        weibo=_weibo(content),
        app=_app(content),
    )


def _wechat(content: ArticleContent, default_cover: str | None) -> WeChatOut:
    try:
        post = render_wechat(content)
    except ChannelError as exc:
        return WeChatOut(
            title="",
            title_cut=False,
            digest="",
            cover=None,
            cover_source="none",
            body_html="",
            error=str(exc),
        )
    cover = post.images[0] if post.images else default_cover
    return WeChatOut(
        title=post.title,
        title_cut=len(content.title) > TITLE_MAX_CHARS,
        digest=post.summary,
        cover=cover,
        cover_source="article_image" if post.images else ("account_default" if cover else "none"),
        body_html=post.body,
    )


def _weibo(content: ArticleContent) -> WeiboOut:
    try:
        post = render_status(content)
    except ChannelError as exc:
        return WeiboOut(text="", weibo_length=0, error=str(exc))
    return WeiboOut(
        text=post.body, weibo_length=weibo_length(post.body), image=post.images[0] if post.images else None
    )


def _app(content: ArticleContent) -> AppOut:
    try:
        return AppOut(payload=app_payload(render_app(content)))
    except ChannelError as exc:
        return AppOut(payload={}, error=str(exc))


async def default_cover_for(session: AsyncSession, unit_name: str) -> str | None:
    """The unit's active WeChat account's default cover (read only)."""
    query = (
        select(ChannelAccount.default_cover)
        .join(Unit, col(Unit.id) == col(ChannelAccount.unit_id))
        .where(
            Unit.name == unit_name,
            ChannelAccount.platform == "wechat",
            ChannelAccount.status == AccountStatus.ACTIVE,
        )
    )
    return (await session.exec(query)).first()


class VersionNotFoundError(Exception):
    """No such version, or not in the caller's scope."""


async def preview_version(
    session: AsyncSession, version_id: int, *, wording: WordingDictionary, user_scope: int | None
) -> tuple[Preview, ArticleVersion]:
    """A stored version (a held one, typically) as each channel would show it."""
    found = (
        await session.exec(
            select(ArticleVersion, Article)
            .join(Article, col(Article.id) == col(ArticleVersion.article_id))
            .where(ArticleVersion.id == version_id)
        )
    ).first()
    if found is None:
        raise VersionNotFoundError(f"no article version {version_id}")
    version, article = found
    if user_scope is not None and not (await load_tree(session)).contains(user_scope, article.unit_id):
        raise VersionNotFoundError(f"no article version {version_id}")
    payload = ArticleIn.model_validate(version.payload)
    cover = await default_cover_for(session, payload.unit)
    return preview_article(payload, wording=wording, default_cover=cover, version=version.number), version
