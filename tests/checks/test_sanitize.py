"""HTML sanitising on tampered corpus articles: injected markup never reaches a channel."""

from __future__ import annotations

from collections.abc import Callable

from syndicator.checks import run_checks
from syndicator.checks.base import CheckInput
from syndicator.checks.sanitize import is_trusted_link, sanitize

ArticleFactory = Callable[..., CheckInput]
Tamper = Callable[[str, str], CheckInput]
HIDDEN_GAMBLING = (
    '<div style="display:none"><a href="http://www.amxpj-casino.com">澳门新葡京</a>'
    '<a href="https://bet365.example.com">365体育投注</a></div>'
)


def rules(findings: list) -> set[str]:
    return {f.rule for f in findings}


def test_hidden_div_with_gambling_links_is_removed_and_held(tampered: Tamper) -> None:
    report = run_checks(tampered("001", HIDDEN_GAMBLING))

    assert report.held
    [finding] = [f for f in report.findings if f.rule == "sanitize.hidden_element"]
    assert finding.severity == "block" and finding.position == 0
    assert "澳门新葡京" not in report.sanitized_html and "casino" not in report.sanitized_html
    assert report.sanitized_html.startswith("<p>各镇人民政府")


def test_hidden_attribute_and_visibility_hidden_count_as_hidden(tampered: Tamper) -> None:
    for injected in ("<p hidden>百家乐 真人娱乐</p>", '<span style="visibility: hidden">博彩</span>'):
        report = run_checks(tampered("003", injected))
        assert "sanitize.hidden_element" in rules(report.blocking)


def test_hidden_text_without_links_or_spam_is_removed_with_a_warning(tampered: Tamper) -> None:
    report = run_checks(tampered("003", '<p style="display:none">打印版页眉</p>'))

    assert not report.held
    assert [f.severity for f in report.findings if f.rule == "sanitize.hidden_element"] == ["warn"]
    assert "打印版页眉" not in report.sanitized_html


def test_empty_injected_tags_are_removed_and_held(article: ArticleFactory) -> None:
    real = article("002")
    body = real.body_html.replace("</p>", '<a href="/tag/1"></a><span class="k9f"></span></p>', 1)

    report = run_checks(CheckInput(real.title, body, real.doc_number, real.url, real.source_portal))

    assert report.held
    assert {"sanitize.hidden_link", "sanitize.empty_tag"} <= rules(report.findings)
    assert "<span" not in report.sanitized_html and 'href="/tag/1"' not in report.sanitized_html


def test_empty_spacer_paragraphs_are_dropped_quietly(tampered: Tamper) -> None:
    report = run_checks(tampered("001", "<p>&nbsp;</p><p><br></p>"))

    assert report.findings == []


def test_off_site_link_is_unwrapped_and_held(article: ArticleFactory) -> None:
    real = article("003")
    body = real.body_html.replace(
        "怀化市人民政府办公室</p>",
        '<a href="http://www.cheap-deals.example/p?id=9">怀化市人民政府办公室</a></p>',
        1,
    )

    report = run_checks(CheckInput(real.title, body, real.doc_number, real.url, real.source_portal))

    [finding] = report.blocking
    assert finding.rule == "sanitize.offsite_link"
    assert body[finding.position :].startswith('<a href="http://www.cheap-deals.example')
    assert "cheap-deals" not in report.sanitized_html
    assert "<p>怀化市人民政府办公室</p>" in report.sanitized_html


def test_links_to_the_portal_and_government_sites_survive(tampered: Tamper) -> None:
    injected = (
        '<p><a href="https://www.gov.cn/zhengce/">中国政府网</a><a href="/art/2.html">上一篇</a>'
        '<a href="https://www.huaihua.gov.cn/x.html">本站</a></p>'
    )

    report = run_checks(tampered("003", injected))

    assert report.findings == []
    assert report.sanitized_html.count("<a href=") == 3


def test_scripts_iframes_and_event_handlers_are_removed_and_held(tampered: Tamper) -> None:
    injected = (
        '<p onmouseover="go()">通知</p><script>location.href="http://x.example"</script>'
        '<iframe src="http://x.example/ad"></iframe><a href="javascript:alert(1)">点此</a>'
    )

    report = run_checks(tampered("000", injected))

    assert {"sanitize.event_handler", "sanitize.active_content", "sanitize.script_url"} <= rules(
        report.blocking
    )
    for gone in ("onmouseover", "<script", "location.href", "<iframe", "javascript:"):
        assert gone not in report.sanitized_html
    assert report.sanitized_html.startswith("<p>通知</p>")


def test_word_export_leftovers_are_dropped_with_a_warning(tampered: Tamper) -> None:
    report = run_checks(tampered("001", "<style>p{margin:0}</style><o:p></o:p>"))

    assert not report.held
    assert "sanitize.dropped_tag" in rules(report.findings)
    assert "margin" not in report.sanitized_html


def test_markup_in_the_title_is_held(article: ArticleFactory) -> None:
    real = article("001")

    report = run_checks(CheckInput('<img src=x onerror="alert(1)">' + real.title, real.body_html))

    assert "sanitize.title_markup" in rules(report.blocking)


def test_trusted_links() -> None:
    sites = frozenset({"ln.gov.cn"})
    assert is_trusted_link("/art/1.html", sites)
    assert is_trusted_link("https://www.gov.cn/", sites)
    assert is_trusted_link("mailto:web@ln.gov.cn", sites)
    assert not is_trusted_link("https://gov.cn.example.com/", sites)
    assert not is_trusted_link("//evil.example/x", sites)


def test_sanitize_reports_positions_in_the_received_html() -> None:
    body = "<p>一</p>\n<p>二</p>\n<div hidden>博彩</div>"

    result = sanitize(CheckInput("标题", body))

    [finding] = result.findings
    assert body[finding.position :].startswith("<div hidden>")
