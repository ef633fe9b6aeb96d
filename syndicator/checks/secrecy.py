"""Secrecy markers: a classified or internal document must never be published (保密审查).

The words alone are everywhere in real policy text (保守国家秘密, 商业秘密, 不宜公开的信息), so a
hold needs the shape of a marking: a classification mark with ★, a line that is only the marking,
a bracketed marking, or a short marking line at the head or foot of the document.
"""

from __future__ import annotations

import re

from syndicator.checks.base import BLOCK, WARN, CheckInput, FieldName, Finding

RULE_CLASSIFICATION = "secrecy.classification_mark"
RULE_RESTRICTION = "secrecy.restriction_mark"

# "机密★1年", "秘密★", "绝密★长期", "密级：机密": GB/T 9704 classification marks.
CLASSIFICATION_MARK = re.compile(
    r"(?:绝密|机密|秘密)\s*[★☆＊*]\s*(?:\d+\s*(?:年|个月)|长期)?|密级\s*[:：]\s*(?:绝密|机密|秘密)"
)
# A whole line that is just a level: "秘密" or "机密 ★" standing alone at the head of a document.
_LEVEL_ALONE = re.compile(r"^[\s【\[〔（(]*(?:绝密|机密|秘密)[\s】\]〕）)]*$")
RESTRICTION_TERMS = (
    "内部资料", "不宜公开", "注意保密", "此件不公开", "不予公开", "内部文件", "内部参阅",
    "请勿外传", "不得外传", "仅供内部", "内部使用",
)  # fmt: skip
_RESTRICTION = re.compile("|".join(RESTRICTION_TERMS))
_BRACKETS = "（()）【】[]〔〕<>《》"
MARKING_LINE_MAX = 20  # "内部资料 注意保存": a marking is a short line, a sentence is not
EDGE_LINES = 3  # head and foot of the document, where markings are printed


def check(inp: CheckInput) -> list[Finding]:
    findings: list[Finding] = []
    for field, text in inp.texts():
        findings += _classification_marks(text, field)
        findings += _restrictions(text, field)
    return findings


def _classification_marks(text: str, field: FieldName) -> list[Finding]:
    findings = [
        Finding(RULE_CLASSIFICATION, BLOCK, "classification mark", m.group().strip(), m.start(), field)
        for m in CLASSIFICATION_MARK.finditer(text)
    ]
    for start, line in _lines(text):
        if _LEVEL_ALONE.match(line) and not any(f.position >= start for f in findings):
            findings.append(
                Finding(
                    RULE_CLASSIFICATION,
                    BLOCK,
                    "classification level on a line of its own",
                    line.strip(),
                    start,
                    field,
                )
            )
    return findings


def _restrictions(text: str, field: FieldName) -> list[Finding]:
    lines = _lines(text)
    findings: list[Finding] = []
    for index, (start, line) in enumerate(lines):
        for match in _RESTRICTION.finditer(line):
            at_edge = index < EDGE_LINES or index >= len(lines) - EDGE_LINES
            if _is_marking(line, match, at_edge or field == "title"):
                findings.append(
                    Finding(
                        RULE_RESTRICTION,
                        BLOCK,
                        "restricted-distribution marking",
                        match.group(),
                        start + match.start(),
                        field,
                    )
                )
            else:
                findings.append(
                    Finding(
                        RULE_RESTRICTION,
                        WARN,
                        "restriction wording in prose; confirm the text is meant to be public",
                        match.group(),
                        start + match.start(),
                        field,
                    )
                )
    return findings


def _is_marking(line: str, match: re.Match[str], at_edge: bool) -> bool:
    """Bracketed, alone on its line, or a short line at the head or foot of the text."""
    before, after = line[: match.start()].rstrip(), line[match.end() :].lstrip()
    if before[-1:] and before[-1] in _BRACKETS and after[:1] and after[0] in _BRACKETS:
        return True
    bare = line.strip().strip(_BRACKETS + "：:。，, ★")
    if bare == match.group():
        return True
    return at_edge and len(line.strip()) <= MARKING_LINE_MAX


def _lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    start = 0
    for line in text.split("\n"):
        lines.append((start, line))
        start += len(line) + 1
    return lines
