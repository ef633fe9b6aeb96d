"""Personal data in text: one detector and one masker, shared by the article check
(personal_data.py) and the comment screening (comments.py, moderators' cards).

Numbers are found in the forms people write them: separators (`-`, spaces, dots), `+86` / `86` /
`0086` prefixes, an area code in brackets, full-width digits. The text is first folded to ASCII
character for character (same length), so every position refers to the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["id_number", "mobile", "landline", "bank_card", "email"]

# Full-width digits, letters and punctuation fold to ASCII one character for one character.
_FOLD = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "－": "-", "‐": "-", "‑": "-", "＋": "+", "（": "(", "）": ")", "．": ".", "　": " ",
        "＠": "@", "\u00a0": " ",
    }
)  # fmt: skip
_FOLDABLE = re.compile("[" + "".join(re.escape(chr(c)) for c in _FOLD) + "]+")
_SEP = r"[ \t\-.]"
# A run of digits with single separators, an optional country prefix and a bracketed area code;
# a run may hold several numbers ("139 1234 5678 138 …"): it is split into the longest that fit.
# The lookbehind keeps digits inside URLs, file names and identifiers out.
_NUMBER = re.compile(
    rf"(?<![0-9_/=%&?#@+])(?:(?:\+|00)?86{_SEP}?)?(?:\(0\d{{2,3}}\){_SEP}?)?\d(?:{_SEP}?\d)*[Xx]?(?![A-Za-z0-9_@])"
)
_GROUP = re.compile(r"(?:\+|00)?\d+\)?[Xx]?|\(0\d{2,3}\)")
MAX_RUN_GROUPS = 12
# Every number this module finds has at least 7 digits (a local number), every e-mail an @.
MIN_DIGITS = 7
_HINT = re.compile(rf"[@＠]|[0-9０-９](?:[^0-9０-９]*[0-9０-９]){{{MIN_DIGITS - 1}}}")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
_ID_18 = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]")
_ID_15 = re.compile(r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{9,11}")  # 0 + 2-3 digit area code + 7-8 digit number
_LOCAL_NUMBER = re.compile(r"[2-9]\d{6,7}")  # 7-8 digits: only next to a phone label
_PHONE_LABEL = re.compile(
    r"(?:电话|手机|座机|传真|热线|号码|tel|phone|fax|联系方式)\s*[:：]?\s*[(（]?\s*$", re.I
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class PiiMatch:
    kind: Kind
    start: int
    end: int
    text: str  # as written in the original text
    normalized: str  # digits only (phones without the country prefix), or the lower-case e-mail
    valid: bool = True  # ID checksum / Luhn; False still means "looks like one": mask it anyway


def fold(text: str) -> str:
    """Full-width to ASCII, same length (only the runs that need it are translated: fast on long text)."""
    return _FOLDABLE.sub(lambda m: m.group().translate(_FOLD), text)


def may_hold_pii(text: str) -> bool:
    """Cheap pre-test: an @, or 7 digits (most comments have neither: "（3）" or "第2条" are not enough)."""
    return _HINT.search(text) is not None


def find_pii(text: str) -> list[PiiMatch]:
    """Every ID number, phone number, bank card and e-mail address in `text`, in order."""
    if not may_hold_pii(text):
        return []
    folded = fold(text)
    found = [
        PiiMatch("email", m.start(), m.end(), text[m.start() : m.end()], m.group().lower())
        for m in (_EMAIL.finditer(folded) if "@" in folded else ())
    ]
    taken = [(f.start, f.end) for f in found]
    for run in _NUMBER.finditer(folded):
        if run.end() - run.start() < MIN_DIGITS:  # "（12）", "2024-5": too few digits for any number
            continue
        if not any(s < run.end() and run.start() < e for s, e in taken):
            found += _split_run(text, folded, run)
    return sorted(found, key=lambda m: m.start)


def _split_run(text: str, folded: str, run: re.Match[str]) -> list[PiiMatch]:
    """The longest leading groups that form a number, then the same on what is left."""
    groups = [(run.start() + g.start(), run.start() + g.end()) for g in _GROUP.finditer(run.group())]
    groups = groups[: MAX_RUN_GROUPS * 2]
    found: list[PiiMatch] = []
    i = 0
    while i < len(groups):
        for j in range(min(len(groups), i + MAX_RUN_GROUPS), i, -1):
            start, end = groups[i][0], groups[j - 1][1]
            hit = _classify(folded[start:end], folded[:start])
            if hit is not None:
                kind, normalized, valid = hit
                found.append(PiiMatch(kind, start, end, text[start:end], normalized, valid))
                i = j
                break
        else:
            i += 1
    return found


def mask(text: str, matches: Iterable[PiiMatch] | None = None) -> str:
    """`text` with every match replaced by its masked form (first 3 and last 4 characters kept)."""
    found = find_pii(text) if matches is None else list(matches)
    out: list[str] = []
    cursor = 0
    for match in sorted(found, key=lambda m: m.start):
        out.append(text[cursor : match.start])
        out.append(mask_value(match))
        cursor = match.end
    out.append(text[cursor:])
    return "".join(out)


def mask_value(match: PiiMatch) -> str:
    if match.kind == "email":
        local, _, domain = match.text.partition("@")
        return local[:1] + "***@" + domain
    digits = match.normalized
    keep_head = 3 if len(digits) > 8 else 0
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


def normalize_phone(value: str) -> str:
    """The digits of a phone number as the allow-list stores them (no country prefix; a landline
    written the international way gets its area code's 0 back)."""
    digits = re.sub(r"\D", "", fold(value))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) > 11:
        digits = digits[2:]
    else:
        return digits
    return digits if digits.startswith("0") or _MOBILE.fullmatch(digits) else "0" + digits


def normalize_contact(value: str) -> str:
    """An allow-list entry as matches are compared: phone digits, or a lower-case e-mail / address."""
    value = fold(value).strip()
    if "@" in value:
        return value.lower()
    return normalize_phone(value) if re.fullmatch(r"[\d\s\-.+()]+", value) else value


def is_allowed(normalized: str, allowed: frozenset[str]) -> bool:
    """Exact, or the same local number with or without its area code (6166558 ~ 07536166558)."""
    if normalized in allowed:
        return True
    if not normalized.isdigit() or len(normalized) < 7:
        return False
    return any(
        entry.isdigit() and len(entry) >= 7 and (entry.endswith(normalized) or normalized.endswith(entry))
        for entry in allowed
    )


def id_checksum_ok(number: str) -> bool:
    if len(number) == 15:
        return True  # first-generation numbers carry no check character
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _classify(raw: str, before: str) -> tuple[Kind, str, bool] | None:
    digits = re.sub(r"[^0-9X]", "", raw.upper())
    if "X" in digits[:-1]:
        return None
    if _ID_18.fullmatch(digits) or (_ID_15.fullmatch(digits) and "X" not in digits):
        return "id_number", digits, id_checksum_ok(digits)
    if digits.endswith("X"):
        return None
    national = digits
    if re.match(r"(?:\+|00)?86", raw) and len(digits) >= 11:
        national = digits.removeprefix("00")[2:]
        if not national.startswith("0") and not _MOBILE.fullmatch(national):
            national = "0" + national  # +86 10 1234 5678: the area code loses its 0 abroad
    if _MOBILE.fullmatch(national):
        return "mobile", national, True
    if _LANDLINE.fullmatch(national):
        return "landline", national, True
    if 16 <= len(digits) <= 19:
        return "bank_card", digits, luhn_ok(digits)
    if _LOCAL_NUMBER.fullmatch(digits) and _PHONE_LABEL.search(before[-12:]):
        return "landline", digits, True
    return None
