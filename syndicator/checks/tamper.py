"""Tampered pages, judged by where the gambling vocabulary sits, not by a few words.

SEO injection splices brand phrases into a page wherever a crawler reads them: the title, the
middle of a sentence or of a unit's name ("…各县市区〔乐鱼体育官网〕人民政府…"), the closing lines,
or the signature in place of the signing unit. Two rules:
- a spliced phrase: gambling tokens (spam.spam_tokens) packed together, or one brand token, inside
  running text; the finding names the phrase and its offset;
- the closing signature (the line above the closing date) carries gambling vocabulary, or is not the
  article's unit and does not read as a government body's name.
Empty injected tags sharing one id are judged by sanitize.py, which sees the markup.
"""

from __future__ import annotations

import re

from syndicator.checks import spam
from syndicator.checks.base import BLOCK, WARN, CheckInput, FieldName, Finding, clip

RULE_SPLICED = "tamper.spliced_phrase"
RULE_SIGNATURE = "tamper.signature"

CLUSTER_GAP = 6  # characters between two tokens of one phrase ("新葡京-体育投注", "bet365 体育")
_SENTENCE_BREAK = re.compile(r"[。！？；;\n]")
# What a phrase drags along on either side: Latin/digit brand parts, site words, brackets' insides.
_PHRASE_EDGE_RIGHT = re.compile(r"[A-Za-z0-9]*(?:官网|官方|平台|网址|入口|app|APP|下载|登录|注册)*")
_PHRASE_EDGE_LEFT = re.compile(r"[A-Za-z0-9]*$")
_DATE_LINE = re.compile(
    r"^\s*(?:\d{4}|[〇○零一二三四五六七八九]{4})\s*年\s*[\d〇○一二三四五六七八九十]{1,2}\s*月"
    r"\s*[\d〇○一二三四五六七八九十]{1,3}\s*日\s*$"
)
SIGNATURE_SEARCH_LINES = 8  # the closing date is among the last lines
# A government body's name ends like one.
_ORG_SUFFIX = re.compile(
    r"(?:政府|办公室|办公厅|局|委员会|委|厅|部|署|中心|院|会|办|所|站|队|处|科|室|组|公司|党委|党组|支部|"
    r"街道办事处|管委会|法院|检察院|银行|学校|医院|馆|团|社|联|协会|小组|指挥部)$"
)


def check(inp: CheckInput) -> list[Finding]:
    findings: list[Finding] = []
    for field, text in inp.texts():
        findings += spliced_phrases(text, field)
    findings += _signature(inp.body_text, inp.unit)
    return findings


def spliced_phrases(text: str, field: FieldName = "body") -> list[Finding]:
    """Clusters of gambling tokens in running text; a crackdown or state-lottery sentence only warns."""
    findings: list[Finding] = []
    for start, end, tokens in _clusters(spam.spam_tokens(text), text):
        kinds = [t.kind for t in tokens]
        if "brand" not in kinds and len([k for k in kinds if k != "lure"]) < 2:
            continue  # one word of gambling vocabulary: spam.gambling judges it
        start, end = _widen(text, start, end)
        phrase = text[start:end]
        legit = spam.legit_context(text, start)
        message = (
            f"gambling phrase in a crackdown or state-lottery context ({field} offset {start})"
            if legit
            else f"gambling phrase spliced into the {field} at offset {start}: {_context(text, start, end)}"
        )
        findings.append(Finding(RULE_SPLICED, WARN if legit else BLOCK, message, phrase, start, field))
    return findings


def _clusters(tokens: list[spam.SpamToken], text: str) -> list[tuple[int, int, list[spam.SpamToken]]]:
    clusters: list[tuple[int, int, list[spam.SpamToken]]] = []
    for token in tokens:
        if clusters:
            start, end, members = clusters[-1]
            gap = text[end : token.start]
            if len(gap) <= CLUSTER_GAP and not _SENTENCE_BREAK.search(gap):
                clusters[-1] = (start, token.end, [*members, token])
                continue
        clusters.append((token.start, token.end, [token]))
    return clusters


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    left = _PHRASE_EDGE_LEFT.search(text[max(0, start - 20) : start])
    right = _PHRASE_EDGE_RIGHT.match(text, end)
    return start - (len(left.group()) if left else 0), right.end() if right else end


def _context(text: str, start: int, end: int) -> str:
    """The phrase with a few characters either side, so a reader finds it in the page."""
    return clip(f"…{text[max(0, start - 8) : start]}〖{text[start:end]}〗{text[end : end + 8]}…", 60)


def _signature(body_text: str, unit: str) -> list[Finding]:
    lines = _lines(body_text)
    tail = lines[-SIGNATURE_SEARCH_LINES:]
    for index in range(len(tail) - 1, 0, -1):
        if not _DATE_LINE.match(tail[index][1]):
            continue
        position, signature = tail[index - 1]
        return _judge_signature(signature.strip(), position + len(signature) - len(signature.lstrip()), unit)
    return []


def _judge_signature(signature: str, position: int, unit: str) -> list[Finding]:
    if not signature or signature.endswith(("。", "：", ":")):
        return []  # "特此通知。" above the date: there is no signature line to judge
    if spam.spam_tokens(signature):
        message = "closing signature carries gambling vocabulary in place of the signing unit"
        return [Finding(RULE_SIGNATURE, BLOCK, message, clip(signature), position, "body")]
    if not unit or _names_unit(signature, unit) or _ORG_SUFFIX.search(signature):
        return []
    latin = bool(re.search(r"[A-Za-z0-9]{3,}", signature))
    message = f"closing signature is not the article's unit ({unit})"
    return [Finding(RULE_SIGNATURE, BLOCK if latin else WARN, message, clip(signature), position, "body")]


def _names_unit(signature: str, unit: str) -> bool:
    compact = re.sub(r"\s+", "", signature)
    return unit in compact or compact in unit


def _lines(text: str) -> list[tuple[int, str]]:
    """Non-empty lines with their offsets."""
    lines: list[tuple[int, str]] = []
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            lines.append((offset, line))
        offset += len(line) + 1
    return lines
