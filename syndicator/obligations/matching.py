"""Recognising a repost of an upstream item in a channel post: by link, document number or title.

Pure functions; the service feeds them posts that channel adapters list (`RecentPost`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from channels import urls

# Brackets that portals and editors use interchangeably in document numbers: 〔〕 [] () 【】 ［］ （）.
_BRACKETS = str.maketrans(
    {
        "[": "〔",
        "]": "〕",
        "(": "〔",
        ")": "〕",
        "【": "〔",
        "】": "〕",
        "［": "〔",
        "］": "〕",
        "（": "〔",
        "）": "〕",
        "﹝": "〔",
        "﹞": "〕",
    }
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_REPOST_PREFIX = re.compile(r"^(转发|转载|转|权威发布|重磅|最新)[:：]?")
MIN_TITLE_CHARS = 8  # shorter titles are too generic to match on


@dataclass(frozen=True)
class RecentPost:
    """A post found on a channel (an adapter's recent posts): what the matcher needs."""

    title: str
    url: str | None
    text: str
    posted_at: datetime


@dataclass(frozen=True)
class ItemKey:
    """What identifies an upstream item in someone else's post."""

    item_id: int
    url: str
    doc_number: str | None
    title: str


def normalise_doc_number(value: str) -> str:
    return unicodedata.normalize("NFKC", value).replace(" ", "").translate(_BRACKETS)


def normalise_title(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).strip()
    text = _REPOST_PREFIX.sub("", text)
    return _NOT_WORD.sub("", text).lower()


def normalise_url(value: str) -> str:
    """Host (as a browser reads it, without www.), path and query: http/https and case ignored."""
    try:
        url = urls.web_url(value)
    except urls.BadUrl:
        return ""
    host = url.origin_host.removeprefix("www.")
    path, _, query = url.path_and_query.partition("?")
    return f"{host}{path.rstrip('/')}" + (f"?{query}" if query else "")


def match_reason(item: ItemKey, post: RecentPost) -> str | None:
    """'link' | 'doc_number' | 'title' when the post reposts the item, else None."""
    target = normalise_url(item.url)
    if target and post.url and normalise_url(post.url) == target:
        return "link"
    if target and target in _urls_in(post.text):
        return "link"
    if item.doc_number:
        wanted = normalise_doc_number(item.doc_number)
        if wanted in normalise_doc_number(post.title) or wanted in normalise_doc_number(post.text):
            return "doc_number"
    title = normalise_title(item.title)
    if len(title) >= MIN_TITLE_CHARS:
        posted = normalise_title(post.title)
        if posted == title or (len(posted) >= MIN_TITLE_CHARS and title in posted):
            return "title"
    return None


_URL = re.compile(r"https?://[^\s\"'<>]+")


def _urls_in(text: str) -> set[str]:
    return {normalise_url(u.rstrip(".,，。)）")) for u in _URL.findall(text)}
