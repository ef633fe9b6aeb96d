"""The real corpus must come out clean or with warnings only: a false block holds a real policy."""

from __future__ import annotations

from collections.abc import Callable

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


def test_003_has_no_findings(article: ArticleFactory) -> None:
    assert run_checks(article("003")).findings == []


def test_001_is_clean_once_the_unit_registers_its_contact_number(article: ArticleFactory) -> None:
    unregistered = run_checks(article("001", allowed_contacts=frozenset()))
    registered = run_checks(article("001", allowed_contacts=frozenset({"07536166558"})))

    assert [(f.rule, f.severity, f.matched) for f in unregistered.findings] == [
        ("personal_data.phone", "warn", "***6558")
    ]
    assert registered.findings == []
