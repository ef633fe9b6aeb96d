"""Spam and SEO injection: gambling vocabulary and brand tokens, brand-like entry lures,
keyword-stuffed titles and keyword blocks. Hacked portals get exactly this, so a hit holds the
article. The vocabulary (`spam_tokens`) is also what tamper.py clusters into spliced phrases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from syndicator.checks import pii
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
    # Not bare 快三 / 快3 (加快三农, 加快3个项目) nor 视讯 (视讯会议).
    "大发快三", "快三开奖", "快三计划", "11选5", "pk10", "捕鱼游戏", "电子游戏平台", "开奖直播",
)  # fmt: skip
GAMBLING = re.compile("|".join(sorted(GAMBLING_TERMS, key=len, reverse=True)))
# A crackdown report or state-lottery news (体彩投注站) names the same words: worth a look, not a hold.
_LEGIT_CONTEXT = re.compile(
    r"打击|整治|查处|取缔|严禁|禁止|涉赌|破获|抓获|侦破|违法犯罪|赌博犯罪|专项行动|体育彩票|福利彩票|体彩|福彩"
)
# "bet365", "365体育", "ky棋牌": Latin/digit brand tokens. Matched only where a run of ASCII letters
# and digits starts (found first with a cheap scan): a pattern with leading lookbehinds tried at every
# character made comment screening twice as slow.
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")
LATIN_BRAND = re.compile(
    # A Latin/digit brand glued to a betting-site word; five-digit 12xxx numbers are government
    # hotlines (12345平台), never brands.
    r"(?:[a-z]+\d+[a-z]*|(?!12\d{3}(?!\d))\d{2,}[a-z]*)\s*(?:体育|娱乐|官网|平台|国际|棋牌|彩票|真人|电竞)"
    r"|(?:bet\d+|betway|casino|poker|bwin|bbin|raybet|kaiyun|huatihui|leyu|jinbaobao|amjs)[a-z0-9]*"
    # "ky棋牌", "pg电子", "OD体育": a Latin tag on a betting-site word (common acronyms excepted).
    r"|(?!(?:ai|vr|ar|it|app|cba|nba|cctv|gdp|cpi)(?![a-z]))[a-z]{2,6}\s*"
    r"(?:体育|娱乐|棋牌|彩票|真人|电竞|电子|视讯|捕鱼)"
    r"(?!馆|场|中心|局|学院|学校|公园|产业|设施|运动会|总会|协会|赛事|事业|管理|发行|公益|文化|政务|商务|信息|产品|设备)",
    re.I,
)
# Names used by betting sites only: they count on their own.
NAMED_BRAND = re.compile(r"华体会|雷竞技|金博宝|威廉希尔|博狗|新葡京|澳门赌场")


def latin_brands(text: str) -> list[re.Match[str]]:
    """Latin/digit brand tokens (bet365, 365体育, ky棋牌) and the names only betting sites use."""
    found = [m for run in _ALNUM_RUN.finditer(text) if (m := LATIN_BRAND.match(text, run.start()))]
    return found + list(NAMED_BRAND.finditer(text))


# Gambling site names seen on hacked government pages. Many are ordinary words (江南, 半岛, 星空), so
# a name counts only with a betting-site suffix, and never before a venue word (江南体育馆).
BRAND_NAMES = (
    "澳门", "新葡京", "葡京", "威尼斯人", "金沙", "太阳城", "永利", "美高梅", "巴黎人", "皇冠", "亚博",
    "华体会", "乐鱼", "开云", "博狗", "必发", "沙巴", "九游", "半岛", "星空", "米乐", "爱游戏", "欧宝",
    "雷竞技", "博鱼", "必一", "江南", "天博", "宝博", "凯发", "尊龙", "利来", "金博宝", "万博", "明升",
    "伟德", "立博", "威廉希尔", "环亚", "大发", "彩神", "鸭脖", "银河", "百家", "亿博", "英皇", "蓝冠",
    "皇宫", "必威", "宝盈", "亚洲城",
)  # fmt: skip
_NAME = re.compile("|".join(BRAND_NAMES))
_VENUE = (
    r"(?!馆|场|中心|局|学院|学校|公园|产业|设施|运动会|总会|协会|赛事|事业|管理|发行|公益|文化|节目|活动)"
)
CJK_BRAND = re.compile(
    rf"(?:{'|'.join(BRAND_NAMES)})\s*(?:体育|娱乐|彩票|棋牌|真人|电竞|官网|平台|app|官方|网投|网址|赌场|游戏平台)"
    + _VENUE,
    re.I,
)
# "xpj365", "hg8868", "365bet": Latin letters with the lucky numbers betting brands use.
_LUCKY = r"(?:365|888|8888|777|188|1688|168|999|9393|6666|5555|8868|88|99|66)"
LUCKY_TOKEN = re.compile(rf"[A-Za-z]{{2,10}}{_LUCKY}|{_LUCKY}[A-Za-z]{{2,10}}")  # a whole ASCII run
# Any name + a betting-site word + a site word: "乐游棋牌官网", "大象彩票app下载". The state lottery's own
# site (体育彩票 / 福利彩票) is not a brand.
# Found by its tail (cheap to search for), then widened over the name before it.
_GENERIC_TAIL = re.compile(
    r"(?:体育|娱乐|棋牌|彩票|电竞|真人)(?:官网|官方网站|官方平台|app|平台|网址|下载|登录|注册|网页版|手机版)",
    re.I,
)
_NAME_BEFORE = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{2,4}$")
_STATE_LOTTERY = re.compile(r"体育彩票|福利彩票|体彩|福彩")
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


TokenKind = Literal["term", "brand", "lure"]


@dataclass(frozen=True)
class SpamToken:
    start: int
    end: int
    kind: TokenKind


def is_spammy(text: str) -> bool:
    """Does the text carry gambling vocabulary or a brand-like betting token? (hidden content, comments)"""
    return bool(GAMBLING.search(text) or brand_tokens(text))


def brand_tokens(text: str) -> list[tuple[int, int]]:
    """Spans of betting brands: Latin/digit tokens (bet365, xpj365, 365体育), named sites (乐鱼体育),
    two site names run together (澳门金沙, 永利皇宫), any name on a betting-site address (乐游棋牌官网)."""
    text = pii.fold(text)  # ｂｅｔ３６５ is bet365 (same length: offsets hold)
    found = [m.span() for m in latin_brands(text)]
    found += [m.span() for m in CJK_BRAND.finditer(text)]
    found += [run.span() for run in _ALNUM_RUN.finditer(text) if LUCKY_TOKEN.fullmatch(run.group())]
    names = list(_NAME.finditer(text))
    found += [(a.start(), b.end()) for a, b in zip(names, names[1:], strict=False) if a.end() == b.start()]
    for tail in _GENERIC_TAIL.finditer(text):
        head = _NAME_BEFORE.search(text, max(0, tail.start() - 4), tail.start())
        if head and not _STATE_LOTTERY.search(text, head.start(), tail.end()):
            found.append((head.start(), tail.end()))
    return found


def spam_tokens(text: str) -> list[SpamToken]:
    """Every piece of gambling vocabulary in `text`, in order, overlaps merged (brand wins)."""
    raw = [SpamToken(start, end, "brand") for start, end in brand_tokens(text)]
    raw += [SpamToken(m.start(), m.end(), "term") for m in GAMBLING.finditer(pii.fold(text))]
    raw += [SpamToken(m.start(), m.end(), "lure") for m in ENTRY_LURE.finditer(text)]
    rank = {"brand": 0, "term": 1, "lure": 2}
    merged: list[SpamToken] = []
    for token in sorted(raw, key=lambda t: (t.start, -t.end)):
        if merged and token.start < merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, token.kind, key=rank.__getitem__)
            merged[-1] = SpamToken(last.start, max(last.end, token.end), kind)
        else:
            merged.append(token)
    return merged


def legit_context(text: str, position: int) -> bool:
    """A crackdown report or state-lottery news names the same words."""
    return bool(_LEGIT_CONTEXT.search(_sentence_around(text, position)))


def gambling_findings(text: str, field: FieldName) -> list[Finding]:
    """The first occurrence of each gambling term; a crackdown or state-lottery context only warns."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for match in GAMBLING.finditer(text):
        if match.group() in seen:
            continue
        seen.add(match.group())
        legit = legit_context(text, match.start())
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
        if is_spammy(window):
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
    """Short keyword fragments around the real title (its longest part), before or after it:
    澳门娱乐城-体育投注-官方app登录入口_<real title>, <real title>_bet365体育-乐鱼官网."""
    fragments = [f for f in _TITLE_SEPARATORS.split(title.strip()) if f]
    if len(fragments) < 3:
        return []
    real = max(fragments, key=len)
    others = [f for f in fragments if f is not real]
    short = [f for f in others if len(f) <= STUFFED_FRAGMENT_MAX and not f.isdigit()]
    if len(short) < 2 or len(short) < len(others) - 1:
        return []
    at = title.find(real)
    if fragments[0] is real:
        start, matched = at + len(real), title[at + len(real) :]
    elif fragments[-1] is real:
        start, matched = 0, title[:at]
    else:
        start, matched = 0, title
    return [
        Finding(
            RULE_STUFFED_TITLE,
            BLOCK,
            "keyword-stuffed title: separator-joined fragments around the real title",
            matched.strip(),
            start + len(matched) - len(matched.lstrip()),
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
