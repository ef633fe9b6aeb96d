"""How an article looks in the unit's mobile app: sanitised HTML plus the fields the app lists."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from channels.base import ArticleContent, RenderedPost
from channels.html import image_sources, plain_text, sanitize_html, summarize
from channels.rendering import render_template

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUMMARY_CHARS = 120


def render_article(article: ArticleContent) -> RenderedPost:
    body = sanitize_html(article.body_html)
    html = render_template(
        "app/article.html.j2",
        title=article.title,
        unit=article.unit,
        doc_number=article.doc_number,
        published_at=article.published_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        body=body,
        url=article.url,
    )
    return RenderedPost(
        title=article.title,
        body=html,
        summary=summarize(plain_text(body), SUMMARY_CHARS),
        link=article.url,
        images=image_sources(body),
        extra={
            "external_id": article.external_id,
            "unit": article.unit,
            "doc_number": article.doc_number or "",
            "category": article.category or "",
            "published_at": article.published_at.isoformat(),
            "version": str(article.version),
        },
    )
