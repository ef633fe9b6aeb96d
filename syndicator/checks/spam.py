"""Spam and SEO injection: gambling vocabulary, brand-like entry lures, keyword-stuffed titles and
keyword blocks. Hacked portals get exactly this, so a hit holds the article."""

from __future__ import annotations

import re

from syndicator.checks.base import BLOCK, WARN, CheckInput, FieldName, Finding, clip

RULE_GAMBLING = "spam.gambling"
RULE_LURE = "spam.entry_lure"
RULE_STUFFED_TITLE = "spam.stuffed_title"
RULE_KEYWORD_BLOCK = "spam.keyword_block"

# Words that only gambling sites use. Left out on purpose: 彩票 (the state lottery), 棋牌 (棋牌室
# licensing), bare 金沙 / 太阳城 (place names).
GAMBLING_TERMS = (
    "博彩", "投注", "娱乐城", "体育投注", "真人娱乐", "真人视讯", "百家乐", "赌场", "赌球", "网赌",
    "网上赌", "老虎机", "六合彩", "时时彩", "北京赛车", "幸运飞艇", "彩金", "返水", "首存", "电子游艺",
    "棋牌游戏", "开元棋牌", "皇冠体育", "新葡京", "威尼斯人", "赌博网", "下注", "庄闲", "菠菜",
)  # fmt: skip
GAMBLING = re.compile("|".join(sorted(GAMBLING_TERMS, key=len, reverse=True)))
# A crackdown report or state-lottery news (体彩投注站) names the same words: worth a look, not a hold.
_LEGIT_CONTEXT = re.compile(
    r"打击|整治|查处|取缔|严禁|禁止|涉赌|破获|抓获|侦破|违法犯罪|赌博犯罪|专项行动|体育彩票|福利彩票|体彩|福彩"
)
# "bet365", "365体育", "9393娱乐": a Latin/digit brand glued to a betting-site word.
# Five-digit 12xxx numbers are government hotlines (12345平台), never brands.
BRAND = re.compile(
    r"(?:(?<![a-z])[a-z]+\d+[a-z]*|(?<!\d)(?!12\d{3}(?!\d))\d{2,}[a-z]*)\s*"
    r"(?:体育|娱乐|官网|平台|国际|棋牌|彩票|真人|电竞)"
    r"|(?<![a-z])(?:bet\d+|casino|poker|bwin)[a-z0-9]*",
    re.I,
)
# "官方app登录入口", "官网下载地址": the entry-point lure spam pages carry.
ENTRY_LURE = re.compile(r"(?:官方|官网)?\s*(?:app)?\s*(?:登录|登陆|注册|下载)(?:入口|地址|网址)", re.I)
_TITLE_SEPARATORS = re.compile(r"\s*[-_|｜–—]+\s*")
_FRAGMENT_SEPARATORS = re.compile(r"[\s|｜_\-–/,，、·]+")
_SENTENCE = re.compile(r"[。；;！？]")
STUFFED_FRAGMENT_MAX = 12  # 澳门娱乐城 / 体育投注 / 官方app登录入口: short keyword fragments
KEYWORD_BLOCK_FRAGMENTS = 4


def check(inp: CheckInput) -> list[Finding]:
    findings = [*_stuffed_title(inp.title)]
    for field, text in inp.texts():
        findings += gambling_findings(text, field)
        findings += _lure_findings(text, field)
        findings += _keyword_blocks(text, field)
    return findings


def is_spammy(text: str) -> bool:
    """Does the text carry gambling vocabulary or a brand-like betting token? (hidden content, comments)"""
    return bool(GAMBLING.search(text) or BRAND.search(text))


def gambling_findings(text: str, field: FieldName) -> list[Finding]:
    """The first occurrence of each gambling term; a crackdown or state-lottery context only warns."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for match in GAMBLING.finditer(text):
        if match.group() in seen:
            continue
        seen.add(match.group())
        legit = bool(_LEGIT_CONTEXT.search(_sentence_around(text, match.start())))
        findings.append(
            Finding(
                RULE_GAMBLING,
                WARN if legit else BLOCK,
                "gambling term in a crackdown or state-lottery context" if legit else "gambling vocabulary",
                match.group(),
                match.start(),
                field,
            )
        )
    return findings


def _lure_findings(text: str, field: FieldName) -> list[Finding]:
    """An entry-point lure counts only next to a brand-like token: 政务服务网登录入口 is legitimate."""
    findings: list[Finding] = []
    for match in ENTRY_LURE.finditer(text):
        window = text[max(0, match.start() - 20) : match.end() + 20]
        if BRAND.search(window) or GAMBLING.search(window):
            findings.append(
                Finding(
                    RULE_LURE,
                    BLOCK,
                    "app / site entry lure with a brand-like token",
                    match.group(),
                    match.start(),
                    field,
                )
            )
    return findings


def _stuffed_title(title: str) -> list[Finding]:
    """Short keyword fragments before the title: 澳门娱乐城-体育投注-官方app登录入口_<real title>."""
    fragments = [f for f in _TITLE_SEPARATORS.split(title.strip()) if f]
    if len(fragments) < 3:
        return []
    prefix = fragments[:-1]
    short = [f for f in prefix if len(f) <= STUFFED_FRAGMENT_MAX and not f.isdigit()]
    if len(short) < 2 or len(short) < len(prefix) - 1:
        return []
    matched = title[: title.rfind(fragments[-1])]
    return [
        Finding(
            RULE_STUFFED_TITLE,
            BLOCK,
            "keyword-stuffed title: separator-joined fragments before the real title",
            matched.strip(),
            0,
            "title",
        )
    ]


def _keyword_blocks(text: str, field: FieldName) -> list[Finding]:
    """A line of short keyword fragments (no sentences) that carries spam vocabulary."""
    findings: list[Finding] = []
    offset = 0
    for line in text.split("\n"):
        fragments = [f for f in _FRAGMENT_SEPARATORS.split(line) if f]
        if (
            len(fragments) >= KEYWORD_BLOCK_FRAGMENTS
            and not _SENTENCE.search(line)
            and sum(len(f) for f in fragments) / len(fragments) <= 8
            and sum(1 for f in fragments if is_spammy(f)) >= 2
        ):
            findings.append(
                Finding(
                    RULE_KEYWORD_BLOCK,
                    BLOCK,
                    "block of unrelated spam keywords",
                    clip(line),
                    offset + len(line) - len(line.lstrip()),
                    field,
                )
            )
        offset += len(line) + 1
    return findings


def _sentence_around(text: str, position: int) -> str:
    start = max(text.rfind(c, 0, position) for c in "。！？\n") + 1
    ends = [i for i in (text.find(c, position) for c in "。！？\n") if i != -1]
    return text[start : min(ends) if ends else len(text)]
