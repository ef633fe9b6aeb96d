"""Gambling SEO spam: what hacked portals get, on top of real corpus articles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from syndicator.checks import run_checks, spam
from syndicator.checks.base import CheckInput

ArticleFactory = Callable[..., CheckInput]


def test_spam_prefixed_title_is_held(article: ArticleFactory) -> None:
    real = article("000")
    hacked = replace(real, title="澳门娱乐城-体育投注-官方app登录入口_" + real.title)

    report = run_checks(hacked)

    assert report.held
    stuffed = [f for f in report.blocking if f.rule == "spam.stuffed_title"]
    assert [(f.field, f.position, f.matched) for f in stuffed] == [
        ("title", 0, "澳门娱乐城-体育投注-官方app登录入口_")
    ]
    assert {"spam.gambling", "spam.entry_lure"} <= {f.rule for f in report.blocking}


def test_stuffed_title_without_gambling_words_is_still_held(article: ArticleFactory) -> None:
    real = article("003")

    findings = spam.check(replace(real, title="低价代办|快速出证|全国包过|" + real.title))

    assert [f.rule for f in findings] == ["spam.stuffed_title"]


def test_real_titles_with_a_range_or_subtitle_are_not_stuffed() -> None:
    for title in ("关于印发2023-2025年数字政府建设行动方案的通知", "政府网站年度报表——兴宁市人民政府办公室"):
        assert spam.check(CheckInput(title, "")) == []


def test_gambling_paragraph_in_a_real_body_is_held(article: ArticleFactory) -> None:
    real = article("002")
    body = real.body_html.replace("</p>", "</p><p>365体育投注官网，百家乐在线，注册就送彩金</p>", 1)

    findings = [f for f in spam.check(replace(real, body_html=body)) if f.severity == "block"]

    assert {f.matched for f in findings if f.rule == "spam.gambling"} == {"体育投注", "百家乐", "彩金"}
    assert all(f.field == "body" for f in findings)


def test_keyword_block_of_spam_fragments_is_held() -> None:
    text = "<p>博彩 | 百家乐 | bet365 | 真人娱乐 | 老虎机 | 时时彩</p>"

    findings = spam.check(CheckInput("通知", text))

    assert "spam.keyword_block" in {f.rule for f in findings if f.severity == "block"}


def test_crackdown_and_state_lottery_news_only_warn() -> None:
    body = (
        "<p>公安机关开展专项行动，严厉打击网络赌博，查处百家乐赌场3个。</p>"
        "<p>全市体育彩票投注站实行实名登记。</p>"
    )

    findings = spam.check(CheckInput("打击跨境赌博工作通报", body))

    assert findings and all(f.severity == "warn" for f in findings)


def test_government_login_entry_is_not_a_lure() -> None:
    body = "<p>市民可通过12345平台登录入口或政务服务网注册入口办理。</p>"

    assert spam.check(CheckInput("便民通知", body)) == []


def test_real_corpus_has_no_spam(article: ArticleFactory, corpus_name: str) -> None:
    assert spam.check(article(corpus_name)) == []
