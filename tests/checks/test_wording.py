"""The wording dictionary: shipped entries, and an office file merged on top without code changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.checks import run_checks
from syndicator.checks.base import CheckInput
from syndicator.checks.wording import (
    DEFAULT_PATH,
    WordingDictionary,
    WordingEntry,
    WordingFileError,
    default_dictionary,
    load_wording,
    parse_entries,
)

ArticleFactory = Callable[..., CheckInput]


def test_shipped_dictionary_finds_the_account_spelling_in_002(article: ArticleFactory) -> None:
    real = article("002")

    [finding] = default_dictionary()(real)

    assert (finding.rule, finding.severity, finding.matched) == ("wording", "warn", "帐号")
    assert real.body_text[finding.position : finding.position + 2] == "帐号"
    assert "账号" in finding.message


@pytest.mark.parametrize(
    "text, wrong",
    [
        ("截止目前已完成", "截止目前"),
        ("既使遇到困难", "既使"),
        ("按装路灯", "按装"),
        ("截至到6月底", "截至到"),
    ],
)
def test_common_errors_are_found(text: str, wrong: str) -> None:
    [finding] = default_dictionary().find(text)

    assert finding.matched == wrong and finding.position == text.index(wrong)


def test_ok_entry_shadows_a_wrong_form_inside_a_right_phrase() -> None:
    assert default_dictionary().find("按装机容量计算补贴") == []


def test_longest_match_wins() -> None:
    [finding] = default_dictionary().find("截止到目前，共受理")

    assert finding.matched == "截止到目前"


def test_office_file_adds_overrides_and_switches_off_entries(tmp_path: Path) -> None:
    office = tmp_path / "office.tsv"
    office.write_text(
        "\ufeff# 本单位补充\n网占\t网站\twarn\t常见笔误\n其它\t\toff\n"
        "台湾总统\t台湾地区领导人\tblock\t涉台表述\n",
        encoding="utf-8",
    )

    wording = load_wording(office)

    assert [f.matched for f in wording.find("请访问政府网占")] == ["网占"]
    assert wording.find("其它事项") == []
    [sensitive] = wording.find("所谓台湾总统")
    assert sensitive.severity == "block"
    assert len(default_dictionary()) > 0 and "网占" not in default_dictionary().entries


def test_runner_uses_the_office_dictionary(article: ArticleFactory) -> None:
    wording = default_dictionary().merged([WordingEntry("管网治网", "管网、治网", "block")])

    report = run_checks(article("003"), wording=wording)

    assert report.held and {f.matched for f in report.blocking} == {"管网治网"}


def test_malformed_office_line_names_file_and_line() -> None:
    with pytest.raises(WordingFileError, match=r"office.tsv:2:"):
        parse_entries(["帐号\t账号\twarn", "错字\t\twarn"], "office.tsv")
    with pytest.raises(WordingFileError):
        parse_entries(["错字\t正字\tmaybe"], "office.tsv")


def test_shipped_file_parses_and_has_a_starter_set() -> None:
    entries = parse_entries(DEFAULT_PATH.read_text(encoding="utf-8").splitlines(), "wording.tsv")

    assert len(entries) >= 50
    assert len({e.wrong for e in entries}) == len(entries)


def test_empty_dictionary_finds_nothing() -> None:
    assert WordingDictionary([]).find("帐号") == []


def test_shipped_dictionary_raises_no_false_alarm_on_the_corpus(article: ArticleFactory) -> None:
    found = {
        name: [f.matched for f in default_dictionary()(article(name))]
        for name in ("000", "001", "002", "003")
    }

    assert found == {"000": [], "001": [], "002": ["帐号"], "003": []}
