"""An article as one Weibo status: title, document number, a summary and the portal link.

Shortening rule (a status must fit 140 Weibo characters, counted as in channels/weibo/text.py):
1. '#' is removed everywhere: share.json refuses #话题# tags, and a lone '#' could pair up with one.
2. If the whole text fits, it is sent as is.
3. Otherwise the summary is cut at the longest prefix that fits, followed by '…'. Cuts fall
   between characters, never inside a document number (苏政办发〔2017〕96号) or a URL.
4. If no summary fits at all, it is dropped and the title is cut the same way.
5. The document number and the link are never cut: the link is what share.json requires, the
   document number is what a reader cites.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from channels import urls
from channels.base import ArticleContent, PermanentError, RenderedPost
from channels.html import image_sources, plain_text
from channels.rendering import render_template
from channels.weibo.text import atoms, fits

TEMPLATE = "weibo/status.txt.j2"
ELLIPSIS = "…"
# A 140-character status never holds more than 280 atoms; looking further only costs time.
MAX_ATOMS = 300
TRAILING_PUNCTUATION = " ，、,;；：:。.（("
_URL = re.compile(r"https?://\S+")


def _clean(text: str) -> str:
    return " ".join(text.replace("#", "").replace("＃", "").split())


def _summary_text(body_html: str) -> str:
    """The body as text without links: the status carries exactly one link, the portal's, and
    Weibo refuses a status with any link off the account's safe domain (20018)."""
    return _clean(_URL.sub("", plain_text(body_html)))


def render_status(article: ArticleContent) -> RenderedPost:
    title = _clean(article.title)
    doc_number = _clean(article.doc_number or "") or None
    if doc_number and doc_number in title:
        doc_number = None  # the title already carries it
    summary = _summary_text(article.body_html).removeprefix(title).strip()
    body, summary = _fit(title, doc_number, summary, article.url)
    images = image_sources(article.body_html)
    image = urls.resolve(images[0], article.url) if images else None
    return RenderedPost(
        title=title,
        body=body,
        summary=summary,
        link=article.url,
        images=(image,) if image else (),
    )


def _compose(title: str, doc_number: str | None, summary: str, link: str) -> str:
    return render_template(TEMPLATE, title=title, doc_number=doc_number, summary=summary, link=link).strip()


def _fit(title: str, doc_number: str | None, summary: str, link: str) -> tuple[str, str]:
    full = _compose(title, doc_number, summary, link)
    if fits(full):
        return full, summary
    short_summary = _shorten(summary, lambda text: _compose(title, doc_number, text, link))
    if short_summary is not None:
        return _compose(title, doc_number, short_summary, link), short_summary
    short_title = _shorten(title, lambda text: _compose(text, doc_number, "", link))
    if short_title is None:
        raise PermanentError(
            f"even a one-character title with the document number and link exceeds 140: {link}",
            code="too_long",
            platform="weibo",
        )
    return _compose(short_title, doc_number, "", link), ""


def _shorten(text: str, build: Callable[[str], str]) -> str | None:
    """The longest atom-aligned prefix of `text` plus an ellipsis whose status fits, or None."""
    pieces = atoms(text)[:MAX_ATOMS]

    def candidate(count: int) -> str:
        return "".join(pieces[:count]).rstrip(TRAILING_PUNCTUATION) + ELLIPSIS

    low, high = 0, len(pieces)  # invariant: candidate(low) fits, or low == 0
    while low < high:
        middle = (low + high + 1) // 2
        if fits(build(candidate(middle))):
            low = middle
        else:
            high = middle - 1
    if low == 0 or not candidate(low).rstrip(ELLIPSIS):
        return None
    return candidate(low)
