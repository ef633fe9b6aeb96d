"""Weibo's way of counting a status's length, and the text helpers built on it.

Weibo's 140 limit is in "Weibo characters" (the share page says ≤140 汉字), not code points:
- a character in U+0000–U+00FF counts ½, one in the rest of the BMP counts 1, one beyond the BMP
  (emoji, rare CJK) counts 2 — observed and documented in
  https://schappo.blogspot.co.uk/2012/10/weibo-character-count.html ("one two 🀂一二三四五🀀" = 13);
- a URL counts as a fixed 20 half-width units (= 10) whatever its length, because Weibo replaces
  it with a t.cn short link; a URL longer than 140 bytes costs its excess on top — the rule of
  WeCase's "bug-for-bug compatible" counter, WeCase/WeCase src/TweetUtils.py (TWEET_URL_LEN = 20);
- the total is rounded up: "ab" counts 1 and "abc" counts 2 (WeCase: ceil(units / 2)).
"""

from __future__ import annotations

import math
import re

from channels import urls

MAX_STATUS_LENGTH = 140  # Weibo characters; the share page's "≤140 汉字"
URL_HALF_UNITS = 20  # a URL costs 20 half-width units (= 10 Weibo characters); see module docstring
URL_FREE_BYTES = 140  # bytes of a URL covered by the fixed cost (WeCase TWEET_MAX)

URL_RE = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d+)?(?:[/?#][-A-Za-z0-9_$.+!*()/\\,:@&=?~#%]*)?")

# A document number such as 苏政办发〔2017〕96号 or 国办发[2014]57号: issuer, bracketed year, serial, 号.
DOC_NUMBER_RE = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[［(（]\d{4}[〕\]］)）]\d{1,5}号")

# A #话题# tag: share.json refuses statuses containing one (open.weibo.com/wiki/2/statuses/share).
TOPIC_RE = re.compile(r"#[^#\s]{1,64}#")


def _half_units(char: str) -> int:
    code = ord(char)
    if code <= 0xFF:
        return 1
    return 2 if code <= 0xFFFF else 4


def _url_half_units(url: str) -> int:
    size = len(url.encode())
    return URL_HALF_UNITS if size <= URL_FREE_BYTES else size - URL_FREE_BYTES + URL_HALF_UNITS


def weibo_length(text: str) -> int:
    """The length Weibo checks against its 140 limit."""
    units = sum(_url_half_units(url) for url in URL_RE.findall(text))
    units += sum(_half_units(char) for char in URL_RE.sub("", text))
    return math.ceil(units / 2)


def fits(text: str, limit: int = MAX_STATUS_LENGTH) -> bool:
    return weibo_length(text) <= limit


def strip_urls(text: str) -> str:
    """The text without its links, whitespace collapsed: what survives Weibo's t.cn rewriting."""
    return " ".join(URL_RE.sub(" ", text).split())


def same_status_text(posted: str, live: str) -> bool:
    """Whether a live status is the one we posted: Weibo rewrites links to t.cn, nothing else."""
    return strip_urls(posted) == strip_urls(live)


def host_on_domain(url: str, domain: str) -> bool:
    """The host a browser would go to (WHATWG, channels.urls) is `domain` or a subdomain of it."""
    return urls.on_domain(urls.host_of(url), domain)


def atoms(text: str) -> list[str]:
    """Split text into pieces a shortening may not cut: document numbers and URLs stay whole."""
    pieces: list[str] = []
    position = 0
    for match in re.finditer(f"{DOC_NUMBER_RE.pattern}|{URL_RE.pattern}", text):
        pieces.extend(text[position : match.start()])
        pieces.append(match.group())
        position = match.end()
    pieces.extend(text[position:])
    return pieces
