"""Citizens' personal data in titles, bodies and attachment names (the inspections' most cited fault).

What the office publishes as its own (the unit's registered contact numbers, the allow-list file) is
decided by data handed in (`CheckInput.allowed_contacts`), never guessed. Everything else:
- a citizen ID number (valid checksum) or a bank card number (Luhn) holds the article;
- a mobile number holds it (a mobile belongs to a person); a landline or e-mail address holds it
  next to a person's name, otherwise it warns (register it if it is the office's own);
- a street address next to a person's name holds it.
Findings quote the item masked: the check results are stored and shown, the data must not be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from syndicator.checks import pii
from syndicator.checks.base import BLOCK, WARN, CheckInput, FieldName, Finding

RULE_ID_NUMBER = "personal_data.id_number"
RULE_BANK_CARD = "personal_data.bank_card"
RULE_PHONE = "personal_data.phone"
RULE_EMAIL = "personal_data.email"
RULE_ADDRESS = "personal_data.address"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
    "卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# "姓名：张三", "申请人 李四", "户主王五": labels that introduce a private person.
_NAME_LABEL = re.compile(
    r"(?:姓名|申请人|户主|当事人|本人|村民|居民|学生|患者|家属|联系人|经办人|收件人|领取人|监护人|受助人)"
    r"\s*[:：]?\s*[\u4e00-\u9fff]{2,4}"
)
# A bare name is a person only with a gender beside it ("张三，男，…", a table row: cells end lines
# in the body text) or directly in front of the item ("张三 13912345678").
_NAME = rf"(?:^|(?<=[\s，,、;；:：（(]))[{SURNAMES}][\u4e00-\u9fff]{{1,2}}"
_GENDERED_NAME = re.compile(rf"{_NAME}\s*[，,、:：\s]?\s*[男女](?![\u4e00-\u9fff])", re.M)
_NAME_BEFORE = re.compile(rf"{_NAME}\s*[，,:：\s]?\s*$", re.M)
_RESIDENCE_LABEL = re.compile(r"家住|住址|现住|居住地|户籍地|家庭地址|现居")
# "人民路12号3栋201室", "新村3组": a place with a house number. Found by the house number (cheap to
# search for), then widened over the place name before it.
_HOUSE_NUMBER = re.compile(
    r"(?:路|街|大道|巷|弄|胡同|村|小区|花园|公寓|苑|社区|组)"
    r"[\d一二三四五六七八九十百]+(?:号|弄|栋|幢|座|组|队)"
    r"(?:[\d一二三四五六七八九十]+(?:栋|幢|座|单元|楼|层|室|号))*"
)
_PLACE_BEFORE = re.compile(r"[\u4e00-\u9fff]{1,19}$")
PERSON_WINDOW_BEFORE = 30  # characters before an item in which a person's name makes it theirs
PERSON_WINDOW_AFTER = 12
_GOV_EMAIL = re.compile(r"@(?:[\w-]+\.)*gov\.cn$", re.I)


def check(inp: CheckInput) -> list[Finding]:
    fields: list[tuple[FieldName, str]] = [*inp.texts(), *(("attachment", n) for n in inp.attachment_names)]
    findings: list[Finding] = []
    for field, text in fields:
        findings += find_personal_data(text, field, allowed=inp.allowed_contacts)
    return findings


def find_personal_data(text: str, field: FieldName = "body", *, allowed: Iterable[str] = ()) -> list[Finding]:
    allowed = frozenset(allowed)
    findings: list[Finding] = []
    items = pii.find_pii(text)
    for item in items:
        if item.kind not in ("id_number", "bank_card") and pii.is_allowed(item.normalized, allowed):
            continue
        finding = _judge(item, _person_near(text, item.start, item.end, items), field)
        if finding is not None:
            findings.append(finding)
    findings += _addresses(text, field, allowed, items)
    return sorted(findings, key=lambda f: f.position)


def _judge(item: pii.PiiMatch, person: bool, field: FieldName) -> Finding | None:
    shown = pii.mask_value(item)
    if item.kind == "id_number":
        if item.valid:
            return Finding(RULE_ID_NUMBER, BLOCK, "citizen ID number", shown, item.start, field)
        return Finding(RULE_ID_NUMBER, WARN, "ID-shaped number (checksum fails)", shown, item.start, field)
    if item.kind == "bank_card":
        if not item.valid:
            return None  # long reference numbers; a card number passes the Luhn check
        return Finding(RULE_BANK_CARD, BLOCK, "bank card number", shown, item.start, field)
    if item.kind == "email":
        if _GOV_EMAIL.search(item.normalized):
            return None
        severity = BLOCK if person else WARN
        message = "a person's e-mail address" if person else "e-mail address not in the allow-list"
        return Finding(RULE_EMAIL, severity, message, shown, item.start, field)
    if item.kind == "mobile" or person:
        return Finding(RULE_PHONE, BLOCK, "a private person's phone number", shown, item.start, field)
    message = "phone number not among the unit's registered contacts or the allow-list"
    return Finding(RULE_PHONE, WARN, message, shown, item.start, field)


def _addresses(
    text: str, field: FieldName, allowed: frozenset[str], items: list[pii.PiiMatch]
) -> list[Finding]:
    findings = []
    for house in _HOUSE_NUMBER.finditer(text):
        place = _PLACE_BEFORE.search(text, max(0, house.start() - 19), house.start())
        if place is None:
            continue
        start, address = place.start(), text[place.start() : house.end()]
        if address in allowed or any(address in a for a in allowed):
            continue
        before = text[max(0, start - PERSON_WINDOW_BEFORE) : start]
        if _RESIDENCE_LABEL.search(before) or _person_near(text, start, house.end(), items):
            shown = re.sub(r"[\d一二三四五六七八九十百]+(?=号|栋|幢|座|单元|楼|层|室|组|队|弄)", "*", address)
            findings.append(
                Finding(RULE_ADDRESS, BLOCK, "a private person's street address", shown, start, field)
            )
    return findings


def _person_near(text: str, start: int, end: int, items: list[pii.PiiMatch]) -> bool:
    """A person's name (labelled or bare) or their ID number close to the item."""
    lo, hi = max(0, start - PERSON_WINDOW_BEFORE), min(len(text), end + PERSON_WINDOW_AFTER)
    window = text[lo:hi]
    if _NAME_LABEL.search(window) or _GENDERED_NAME.search(window) or _NAME_BEFORE.search(text[lo:start]):
        return True
    return any(
        i.kind == "id_number" and i.valid and i.end > lo and i.start < hi and i.start != start for i in items
    )
