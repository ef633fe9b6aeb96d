"""Document numbers (文号) and bracket pairs. GB/T 9704 writes a 文号 as issuer〔year〕serial号,
e.g. 国办发〔2014〕57号; portals mangle them (〔201457号 lost its 〕 and the year boundary)."""

from __future__ import annotations

import re

from syndicator.checks.base import WARN, CheckInput, FieldName, Finding

RULE_MALFORMED = "doc_number.malformed"
RULE_NONSTANDARD = "doc_number.nonstandard_brackets"
RULE_UNBALANCED = "brackets.unbalanced"

WELL_FORMED = re.compile(r"^[\u4e00-\u9fff]{2,}〔(?:19|20)\d{2}〕\d{1,5}号$")
_ISSUER_END = r"(?<=[\u4e00-\u9fff])"
_MALFORMED = (
    (re.compile(r"[〔［\[](\d{5,})号"), "opening 〔 never closed: year and serial run together"),
    (re.compile(_ISSUER_END + r"(\d{4,})[〕］\]]\d+号"), "closing 〕 without its opening 〔"),
    (re.compile(r"[〔［\[](?:\d{1,3}|\d{5,})[〕］\]]\d+号"), "the year in 〔〕 must have four digits"),
    (re.compile(r"〔\d{4}〕\d+(?=[^\d号]|$)"), "serial number without 号"),
)
# 国办发[2014]57号, 兴市府办（2014）19号: readable, but 文号 take the hexagonal 〔〕.
_NONSTANDARD = re.compile(_ISSUER_END + r"[\[［（(【]\d{4}[\]］）)】]\d+号")
_PAIRS = {"（": "）", "(": ")", "〔": "〕", "《": "》", "【": "】", "［": "］", "〈": "〉"}
# Full- and half-width parentheses are one family: "（试行)" is a width slip, not an open bracket.
_FAMILY = {"（": "paren", "(": "paren", "）": "paren", ")": "paren"}
_CLOSERS = {close: open_ for open_, close in _PAIRS.items()}
# "1）…", "a)" and "一)" number list items; their closer has no opener.
_ENUMERATION = re.compile(r"(?:^|[^0-9A-Za-z])[0-9A-Za-z一二三四五六七八九十]{1,2}\s*$")


def check(inp: CheckInput) -> list[Finding]:
    findings = _field_number(inp.doc_number)
    for field, text in inp.texts():
        numbers = find_malformed(text, field)
        covered = [(f.position, f.position + len(f.matched)) for f in numbers]
        findings += numbers
        findings += [f for f in unbalanced_brackets(text, field) if not _inside(f.position, covered)]
    return findings


def find_malformed(text: str, field: FieldName = "body") -> list[Finding]:
    findings: list[Finding] = []
    for pattern, reason in _MALFORMED:
        for match in pattern.finditer(text):
            message = f"malformed document number: {reason}{_suggestion(match.group())}"
            findings.append(Finding(RULE_MALFORMED, WARN, message, match.group(), match.start(), field))
    for match in _NONSTANDARD.finditer(text):
        findings.append(
            Finding(
                RULE_NONSTANDARD,
                WARN,
                "document number year takes 〔〕 (GB/T 9704)",
                match.group(),
                match.start(),
                field,
            )
        )
    return findings


def unbalanced_brackets(text: str, field: FieldName = "body") -> list[Finding]:
    """Pairs are matched within a line (a paragraph): a bracket never spans paragraphs."""
    findings: list[Finding] = []
    start = 0
    for line in text.split("\n"):
        findings += [
            Finding(RULE_UNBALANCED, WARN, message, char, start + offset, field)
            for offset, char, message in _unbalanced_in_line(line)
        ]
        start += len(line) + 1
    return findings


def _unbalanced_in_line(line: str) -> list[tuple[int, str, str]]:
    problems: list[tuple[int, str, str]] = []
    stack: list[tuple[int, str]] = []
    for offset, char in enumerate(line):
        if char in _PAIRS:
            stack.append((offset, char))
        elif char in _CLOSERS:
            depth = _matching_depth(stack, char)
            if depth is None:
                if not _ENUMERATION.search(line[:offset]):
                    problems.append((offset, char, f"closing {char} without an opening bracket"))
                continue
            for unclosed_offset, unclosed in stack[depth + 1 :]:
                problems.append((unclosed_offset, unclosed, f"{unclosed} is never closed"))
            del stack[depth:]
    problems += [(offset, char, f"{char} is never closed") for offset, char in stack]
    return sorted(problems)


def _matching_depth(stack: list[tuple[int, str]], closer: str) -> int | None:
    wanted = _FAMILY.get(closer, _CLOSERS[closer])
    for depth in range(len(stack) - 1, -1, -1):
        if _FAMILY.get(stack[depth][1], stack[depth][1]) == wanted:
            return depth
    return None


def _field_number(doc_number: str | None) -> list[Finding]:
    """The article's own 文号 field must be exactly issuer〔year〕serial号."""
    if not doc_number or WELL_FORMED.match(doc_number.strip()):
        return []
    specific = find_malformed(doc_number, "doc_number")
    return specific or [
        Finding(
            RULE_MALFORMED,
            WARN,
            "malformed document number field (expected issuer〔YYYY〕N号)",
            doc_number,
            0,
            "doc_number",
        )
    ]


def _suggestion(matched: str) -> str:
    """〔201457号 → 〔2014〕57号: the first four digits read as a plausible year."""
    digits = re.search(r"\d{5,}", matched)
    if digits and re.match(r"(?:19|20)\d{2}", digits.group()):
        return f"; did you mean 〔{digits.group()[:4]}〕{digits.group()[4:]}号?"
    return ""


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)
