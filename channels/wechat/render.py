"""How a portal article looks as a WeChat 公众号 article, within WeChat's documented limits.

Limits come from the draft/add field table
(https://developers.weixin.qq.com/doc/service/api/draftbox/draftmanage/api_draft_add.md):
title "总长度不超过32个字"; content "必须少于2万字符，小于1M，且此处会去除JS". The digest limit (120) is
from third-party references (UNVERIFIED, see reference/platforms.md §1.3) and is kept as the rule.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import nh3
from markupsafe import Markup

from channels import urls
from channels.base import ArticleContent, PermanentError, RenderedPost
from channels.rendering import render_template

TITLE_MAX_CHARS = 32
CONTENT_MAX_CHARS = 20_000  # "少于2万字符": the content must stay strictly below
CONTENT_MAX_BYTES = 1_000_000  # "小于1M": read as 10^6 bytes, the stricter reading
DIGEST_MAX_CHARS = 120
HEADING_MAX_CHARS = 40  # a longer "一、…" paragraph is body text that opens with a heading number
TEMPLATE = "wechat/article.html.j2"
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")

# WeChat renders ordinary rich text; scripts are stripped by nh3 (content and all), as WeChat does.
# Links are dropped (text kept): only mp.weixin.qq.com links are clickable (UNVERIFIED, platforms.md
# §1.3) and the portal link travels as content_source_url (阅读原文) instead.
_ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "span", "sub", "sup", "img", "blockquote",
    "table", "thead", "tbody", "tr", "td", "th", "ul", "ol", "li",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"img": {"src", "alt"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}

# 苏政办发〔2017〕96号, 国办发[2014]57号, 兴市府办（2014）19号: issuer, bracketed year, serial, 号.
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{2,6}[〔［\[（(]\d{4}[〕］\]）)]\d+号")
_HEADING_1 = re.compile(r"^[一二三四五六七八九十百]+、")
_HEADING_2 = re.compile(r"^[（(][一二三四五六七八九十百]+[）)]")
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_IMG_TAG = re.compile(r"<img\b")
_IMG_SRC = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"')
_TAG = re.compile(r"<[^>]+>")
_IMG_STYLE = 'style="display:block;max-width:100%;height:auto;margin:12px auto;"'


@dataclass(frozen=True)
class Block:
    kind: str  # heading1 | heading2 | lead | paragraph | raw
    html: Markup
    lead: Markup = Markup("")


def render_article(article: ArticleContent) -> RenderedPost:
    clean = sanitize(article.body_html, base_url=article.url)
    body = render_template(
        TEMPLATE,
        doc_number=article.doc_number,
        unit=article.unit,
        published_on=article.published_at.astimezone(DISPLAY_TZ).strftime("%Y年%m月%d日"),
        blocks=split_blocks(clean),
        source_url=article.url,
    )
    body = _IMG_TAG.sub(f"<img {_IMG_STYLE}", body)
    check_content_limits(body)
    return RenderedPost(
        title=shorten_title(article.title, article.doc_number),
        body=body,
        summary=make_digest(clean),
        link=article.url,
        images=image_sources(body),
    )


def sanitize(body_html: str, *, base_url: str) -> str:
    """Keep what WeChat renders; make image sources absolute so they can be fetched and re-hosted."""
    return nh3.clean(
        body_html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        attribute_filter=lambda tag, attr, value: urls.resolve(value, base_url) if attr == "src" else value,
    )


def split_blocks(clean_html: str) -> list[Block]:
    """Cut sanitised HTML into paragraphs (classified as headings or body) and everything else."""
    blocks: list[Block] = []
    position = 0
    for match in _PARAGRAPH.finditer(clean_html):
        if match.start() > position:
            blocks.append(Block("raw", Markup(clean_html[position : match.start()])))
        blocks.append(_paragraph_block(match.group(1)))
        position = match.end()
    if position < len(clean_html):
        blocks.append(Block("raw", Markup(clean_html[position:])))
    return blocks


def _paragraph_block(inner: str) -> Block:
    text = plain_text(inner)
    if _HEADING_1.match(text) and len(text) <= HEADING_MAX_CHARS:
        return Block("heading1", Markup(inner.strip()))
    if _HEADING_2.match(text):
        # "(一)完善管理体系。正文…": the numbered lead sentence is the sub-heading; set it in bold.
        lead, stop, rest = inner.strip().partition("。")
        if stop and rest.strip() and "<" not in lead:
            return Block("lead", Markup(rest), lead=Markup(lead + stop))
        if len(text) <= HEADING_MAX_CHARS:
            return Block("heading2", Markup(inner.strip()))
    return Block("paragraph", Markup(inner.strip()))


def plain_text(fragment: str) -> str:
    """Visible text, whitespace collapsed (full-width 　 indentation included)."""
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def shorten_title(title: str, doc_number: str | None = None) -> str:
    """Fit WeChat's 32-character title.

    Rule, in order: collapse whitespace; drop a parenthesised document number equal to the
    article's own (the body shows it under the title); otherwise cut to 31 characters plus "…",
    moving the cut before any document number it would split, and trimming a dangling opening
    bracket or comma.
    """
    title = " ".join(title.split())
    if len(title) <= TITLE_MAX_CHARS:
        return title
    if doc_number:
        for wrapped in (f"（{doc_number}）", f"({doc_number})"):
            title = title.replace(wrapped, "").strip()
        if len(title) <= TITLE_MAX_CHARS:
            return title
    cut = TITLE_MAX_CHARS - 1
    for match in DOC_NUMBER.finditer(title):
        if match.start() < cut < match.end():
            cut = match.start()
    return title[:cut].rstrip(" ，,、：:（(《〈“") + "…"


def make_digest(clean_html: str) -> str:
    """At most 120 characters of the body's text, ending on a full stop when one is near."""
    text = plain_text(clean_html)
    if len(text) <= DIGEST_MAX_CHARS:
        return text
    head = text[: DIGEST_MAX_CHARS - 1]
    stop = head.rfind("。")
    return head[: stop + 1] if stop >= DIGEST_MAX_CHARS // 2 else head + "…"


def check_content_limits(body: str) -> None:
    """WeChat refuses content of 20,000 characters or 1 MB and more (draft/add, errcode 45002)."""
    size = len(body.encode())
    if len(body) >= CONTENT_MAX_CHARS or size >= CONTENT_MAX_BYTES:
        raise PermanentError(
            f"article too long for WeChat: {len(body)} characters / {size} bytes "
            f"(limits: < {CONTENT_MAX_CHARS} characters, < {CONTENT_MAX_BYTES} bytes)",
            code="content_too_long",
            platform="wechat",
        )


def image_sources(body: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(html.unescape(src) for src in _IMG_SRC.findall(body)))


def replace_images(body: str, hosted: dict[str, str]) -> str:
    """Point every <img> at its WeChat-hosted copy; WeChat filters external image URLs."""

    def swap(match: re.Match[str]) -> str:
        hosted_url = hosted[html.unescape(match.group(1))]
        return match.group(0).replace(match.group(1), html.escape(hosted_url))

    return _IMG_SRC.sub(swap, body)
