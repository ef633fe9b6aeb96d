"""The real corpus must come out clean or with warnings only: a false block holds a real policy."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from syndicator.checks import run_checks
from syndicator.checks.base import CheckInput, html_to_text

ArticleFactory = Callable[..., CheckInput]


def test_real_articles_are_never_held(article: ArticleFactory, corpus_name: str) -> None:
    report = run_checks(article(corpus_name))

    assert report.blocking == []
    assert not report.held


def test_sanitising_keeps_every_word_of_a_real_article(article: ArticleFactory, corpus_name: str) -> None:
    real = article(corpus_name)

    report = run_checks(real)

    assert html_to_text(report.sanitized_html) == real.body_text


def test_malformed_document_number_in_000_is_a_warning(article: ArticleFactory) -> None:
    real = article("000")

    report = run_checks(real)

    [finding] = [f for f in report.findings if f.rule == "doc_number.malformed"]
    assert finding.severity == "warn"
    assert finding.matched == "〔201457号"
    assert real.body_text[finding.position :].startswith("〔201457号")
    assert "〔2014〕57号" in finding.message
    assert report.has_warnings and not report.held


def test_account_spelling_in_002_is_a_wording_warning(article: ArticleFactory) -> None:
    report = run_checks(article("002"))

    assert [(f.rule, f.matched, f.severity) for f in report.findings] == [("wording", "帐号", "warn")]


@pytest.mark.parametrize("name", ["001", "003"])
def test_clean_articles_have_no_findings(article: ArticleFactory, name: str) -> None:
    assert run_checks(article(name)).findings == []
