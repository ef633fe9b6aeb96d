"""Secrecy markers hold an article; the same words in ordinary policy prose do not."""

from __future__ import annotations

from collections.abc import Callable

from syndicator.checks import run_checks, secrecy
from syndicator.checks.base import CheckInput

Tamper = Callable[[str, str], CheckInput]


def test_classification_mark_header_is_held(tampered: Tamper) -> None:
    report = run_checks(tampered("001", "<p>机密★1年</p>"))

    [finding] = report.blocking
    assert (finding.rule, finding.matched, finding.position) == ("secrecy.classification_mark", "机密★1年", 0)


def test_bare_level_line_at_the_top_is_held(tampered: Tamper) -> None:
    for header in ("<p>秘密★</p>", "<p>绝密</p>", "<p>秘密</p>", "<p>密级：机密</p>"):
        report = run_checks(tampered("002", header))
        assert [f.rule for f in report.blocking] == ["secrecy.classification_mark"], header


def test_internal_distribution_markings_are_held(tampered: Tamper) -> None:
    for header in ("<p>内部资料 注意保存</p>", "<p>（此件不宜公开）</p>", "<p>注意保密</p>"):
        report = run_checks(tampered("003", header))
        assert "secrecy.restriction_mark" in {f.rule for f in report.blocking}, header


def test_secrecy_words_in_real_prose_do_not_block(article: Callable[..., CheckInput]) -> None:
    # 003 says 确保国家秘密、商业秘密、个人隐私不泄露 and 上网不涉密、涉密不上网.
    real = article("003")
    assert "国家秘密、商业秘密" in real.body_text

    assert secrecy.check(real) == []


def test_restriction_words_inside_a_sentence_only_warn() -> None:
    body = (
        "<p>第一条 总则。</p><p>第二条 组织。</p><p>第三条 管理。</p>"
        "<p>第四条 各单位要依法保守国家秘密，涉及国家秘密和不宜公开的信息一律不得上网，"
        "内部资料不得擅自发布。</p>"
        "<p>第五条 附则。</p><p>第六条 解释。</p><p>第七条 施行。</p>"
    )

    findings = secrecy.check(CheckInput("关于加强保密审查的通知", body))

    assert {(f.matched, f.severity) for f in findings} == {("不宜公开", "warn"), ("内部资料", "warn")}
