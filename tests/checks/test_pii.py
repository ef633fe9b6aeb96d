"""The personal-data core: numbers in every written form inside Chinese text are found and masked.

Hypothesis writes the numbers the way people do (separators, +86 / 86 / 0086 prefixes, bracketed
area codes, full-width digits) between Chinese sentences; none may survive masking.
"""

from __future__ import annotations

import re
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicator.checks import pii
from syndicator.checks.comments import screen_comment

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHINESE = st.text(
    alphabet=st.sampled_from("我的电话是请联系家住号码身份证卡号，。：！？反映问题市民政府路街道办事处 \n"),
    max_size=12,
)
SEPARATORS = st.sampled_from(["", "-", " ", ".", "　"])


def _full_width(text: str) -> str:
    return "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in text)


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    digits = "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    sep = draw(SEPARATORS)
    written = sep.join([digits[:3], digits[3:7], digits[7:]])
    written = draw(st.sampled_from(["", "+86 ", "86-", "0086 ", "+86"])) + written
    return digits, (_full_width(written) if draw(st.booleans()) else written)


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, str]:
    area = "0" + draw(st.text("123456789", min_size=2, max_size=3))
    local = draw(st.sampled_from("2345678")) + draw(st.text("0123456789", min_size=6, max_size=7))
    form = draw(st.sampled_from(["{a}-{l}", "({a}){l}", "{a} {l}", "+86 {b} {l}", "{a}-{l1}-{l2}"]))
    written = form.format(a=area, b=area[1:], l=local, l1=local[:4], l2=local[4:])
    return area + local, (_full_width(written) if draw(st.booleans()) else written)


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    region = draw(st.sampled_from(["110101", "430102", "441481", "320106", "510104"]))
    birth = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2024, 12, 31))).strftime("%Y%m%d")
    body = region + birth + draw(st.text("0123456789", min_size=3, max_size=3))
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    number = body + check
    written = number if not draw(st.booleans()) else f"{number[:6]} {number[6:14]} {number[14:]}"
    if draw(st.booleans()):
        written = written.lower()
    return number, (_full_width(written) if draw(st.booleans()) else written)


@st.composite
def bank_cards(draw: st.DrawFn) -> tuple[str, str]:
    body = draw(st.sampled_from(["6222", "6228", "6217", "4367"])) + draw(
        st.text("0123456789", min_size=11, max_size=14)
    )
    total = sum(
        (v - 9 if (v := int(c) * (2 if i % 2 == 0 else 1)) > 9 else v) for i, c in enumerate(reversed(body))
    )
    number = body + str((10 - total % 10) % 10)
    sep = draw(SEPARATORS)
    written = sep.join(number[i : i + 4] for i in range(0, len(number), 4))
    return number, written


emails = st.tuples(
    st.from_regex(r"[a-z][a-z0-9._]{2,10}", fullmatch=True),
    st.sampled_from(["qq.com", "163.com", "x.org.cn"]),
).map(lambda parts: (f"{parts[0]}@{parts[1]}", f"{parts[0]}@{parts[1]}"))
ANY_NUMBER = st.one_of(mobiles(), landlines(), id_numbers(), bank_cards(), emails)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", pii.fold(text))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(before=CHINESE, number=ANY_NUMBER, after=CHINESE)
def test_no_number_survives_masking(before: str, number: tuple[str, str], after: str) -> None:
    value, written = number
    text = before + written + after

    masked = pii.mask(text)

    assert written not in masked
    if "@" in value:
        assert value not in masked
    else:
        # At most the first 3 and last 4 digits stay readable: never the whole number.
        assert value not in _digits(masked)


@settings(max_examples=150)
@given(before=CHINESE, number=ANY_NUMBER, after=CHINESE)
def test_detector_finds_the_number_where_it_is(before: str, number: tuple[str, str], after: str) -> None:
    value, written = number
    text = before + written + after

    found = pii.find_pii(text)

    assert any(m.start <= len(before) and m.end >= len(before) + len(written.rstrip()) - 1 for m in found), (
        text,
        found,
    )
    assert any(value.upper().endswith(m.normalized.upper()[-8:]) for m in found)


@settings(max_examples=100)
@given(before=CHINESE, number=ANY_NUMBER, after=CHINESE)
def test_comment_cards_show_neither_the_number_nor_a_finding_that_quotes_it(
    before: str, number: tuple[str, str], after: str
) -> None:
    value, written = number
    screening = screen_comment(before + "加微信 " + written + after)

    shown = screening.masked_text + "".join(f.matched for f in screening.findings)
    assert written not in shown
    assert value not in (shown if "@" in value else _digits(shown))


def test_written_forms_are_classified() -> None:
    cases = {
        "手机 139-2233-4455": ("mobile", "13922334455"),
        "+86 139 2233 4455": ("mobile", "13922334455"),
        "０７５３－６１６６５５８": ("landline", "07536166558"),
        "(0753)6166558": ("landline", "07536166558"),
        "联系电话：6166558": ("landline", "6166558"),
        "身份证 11010519491231002x": ("id_number", "11010519491231002X"),
        "卡号 6222 0200 1234 5678 903": ("bank_card", "6222020012345678903"),
    }
    for text, expected in cases.items():
        [match] = pii.find_pii(text)
        assert (match.kind, match.normalized) == expected, text


def test_ordinary_numbers_are_not_personal_data() -> None:
    text = (
        "2014年6月16日印发，2023-2025年行动方案，预算500000元，国办发〔2014〕57号，GB/T 9704-2012，"
        "详见 https://www.gov.cn/zhengce/content/2014-12/03/content_9286.htm 和 art_1234567890123456.html"
    )
    assert pii.find_pii(text) == []


def test_the_pre_test_wants_an_at_sign_or_seven_digits() -> None:
    """Most comments carry a short number ("第3条", "（12）"): the detector is not even started."""
    assert not pii.may_hold_pii("第三条（123456）")
    assert pii.find_pii("第3条（12）说2024年") == []  # 7 digits in all, but no run holds 7
    assert all(pii.may_hold_pii(t) for t in ("电话 139 2233 4455", "１２３４５６７", "a@b", "甲＠乙"))
    [match] = pii.find_pii("第（3）条（12）：电话（010）6616-5588")  # short runs skipped, the number found
    assert (match.kind, match.normalized) == ("landline", "01066165588")


def test_luhn_and_id_checksums() -> None:
    assert pii.luhn_ok("4111111111111111") and not pii.luhn_ok("4111111111111112")
    assert pii.id_checksum_ok("11010519491231002X") and not pii.id_checksum_ok("110101199003071234")


@settings(max_examples=150)
@given(before=CHINESE, number=st.one_of(mobiles(), id_numbers(), bank_cards()), after=CHINESE)
def test_the_article_check_holds_every_mobile_id_and_card(
    before: str, number: tuple[str, str], after: str
) -> None:
    from syndicator.checks.personal_data import find_personal_data

    value, written = number
    findings = find_personal_data(before + written + after)

    assert any(f.severity == "block" for f in findings), (written, findings)
    assert all(value not in f.matched for f in findings)
