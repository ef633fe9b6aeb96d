"""Document numbers and bracket pairs: real defects warn, never hold."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from syndicator.checks import doc_number
from syndicator.checks.base import CheckInput

ArticleFactory = Callable[..., CheckInput]


def test_000_missing_bracket_and_year_boundary_is_found(article: ArticleFactory) -> None:
    findings = doc_number.check(article("000"))

    assert [(f.rule, f.severity, f.matched) for f in findings] == [
        ("doc_number.malformed", "warn", "〔201457号")
    ]


@pytest.mark.parametrize(
    "text, matched",
    [
        ("依据国办发2014〕57号执行", "2014〕57号"),
        ("依据国办发〔14〕57号执行", "〔14〕57号"),
        ("依据国办发〔2014〕57执行", "〔2014〕57"),
    ],
)
def test_malformed_document_numbers(text: str, matched: str) -> None:
    [finding] = doc_number.find_malformed(text)

    assert (finding.rule, finding.matched, finding.position) == (
        "doc_number.malformed",
        matched,
        text.index(matched),
    )


def test_square_or_round_year_brackets_are_nonstandard() -> None:
    findings = doc_number.find_malformed("见国办发[2014]57号和兴市府办（2014）19号")

    assert [f.rule for f in findings] == ["doc_number.nonstandard_brackets"] * 2


def test_well_formed_numbers_pass(article: ArticleFactory) -> None:
    for name in ("001", "002", "003"):
        assert doc_number.check(article(name)) == []


def test_doc_number_field_is_checked() -> None:
    findings = doc_number.check(CheckInput("通知", "", doc_number="辽政办发〔201557号"))

    assert [(f.field, f.matched) for f in findings] == [("doc_number", "〔201557号")]


@pytest.mark.parametrize(
    "text, matched, position",
    [
        ("根据《政府网站发展指引的规定执行。", "《", 2),
        ("印发《管理办法》》的通知", "》", 8),
        ("（一）完善体系（试行。", "（", 7),
        ("《关于【加强管理》的通知", "【", 3),
    ],
)
def test_unbalanced_brackets_warn(text: str, matched: str, position: int) -> None:
    [finding] = doc_number.unbalanced_brackets(text)

    assert (finding.rule, finding.severity, finding.matched, finding.position) == (
        "brackets.unbalanced",
        "warn",
        matched,
        position,
    )


def test_list_numbers_and_width_slips_are_not_unbalanced() -> None:
    text = "1）加强领导；2）落实责任；a) 明确分工\n《兴宁市政府网站管理办法（试行)》"

    assert doc_number.unbalanced_brackets(text) == []


def test_brackets_are_matched_per_paragraph() -> None:
    findings = doc_number.unbalanced_brackets("第一段（开头\n第二段结尾）")

    assert [f.position for f in findings] == [3, 12]
