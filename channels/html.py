"""HTML helpers every channel uses: keep only what channels render, and plain text for summaries."""

from __future__ import annotations

import html
import re
import unicodedata

import nh3

# What the channels render: text structure, emphasis, tables, images and links. Everything else
# (scripts, iframes, styles, event handlers, forms) is dropped.
ALLOWED_TAGS = {
    "p",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "span",
    "div",
    "section",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "a",
    "blockquote",
    "sub",
    "sup",
}
ALLOWED_ATTRIBUTES = {
    "img": {"src", "alt", "width", "height"},
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}

_TAG = re.compile(r"<[^>]+>")
_INVISIBLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK_END = re.compile(r"</(p|div|h[1-6]|li|tr|section|blockquote)>|<br\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u3000]+")
_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def sanitize_html(body: str) -> str:
    return nh3.clean(body, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel="noopener noreferrer")


def plain_text(body: str) -> str:
    """Readable text: block elements become line breaks, entities decoded, spaces folded."""
    text = html.unescape(_TAG.sub("", _BLOCK_END.sub("\n", _INVISIBLE.sub("", body))))
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def image_sources(body: str) -> tuple[str, ...]:
    return tuple(_IMG_SRC.findall(body))


def summarize(text: str, limit: int) -> str:
    """The first `limit` characters of the text on one line, with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_URL = re.compile(r"https?://\S+")
_NOT_TEXT = re.compile(r"[\s\u3000]+")


def comparable_text(body: str) -> str:
    """Text for comparing what a channel shows with what we sent.

    Markup and links are dropped (platforms rewrite both: re-hosted images, t.cn short links),
    NFKC folds full-width forms into half-width ones, and whitespace is removed.
    """
    return _NOT_TEXT.sub("", unicodedata.normalize("NFKC", _URL.sub("", plain_text(body))))
