"""`syndicator check` output: the table, the JSON and the exit code."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from syndicator.checks import run_checks
from syndicator.checks.base import CheckInput, Finding
from syndicator.checks.report import EXIT_CLEAN, EXIT_HELD, EXIT_WARNINGS, exit_code, format_table, to_json
from syndicator.checks.runner import CheckReport

ArticleFactory = Callable[..., CheckInput]


def test_exit_codes(article: ArticleFactory) -> None:
    clean = run_checks(article("001"))
    warned = run_checks(article("000"))
    held = run_checks(replace(article("000"), title="澳门娱乐城-体育投注-官方app登录入口_标题"))

    assert exit_code([]) == EXIT_CLEAN == 0
    assert exit_code([clean, clean]) == EXIT_CLEAN
    assert exit_code([clean, warned]) == EXIT_WARNINGS == 1
    assert exit_code([warned, held, clean]) == EXIT_HELD == 2


def test_table_names_the_file_and_aligns_columns_with_chinese_text(article: ArticleFactory) -> None:
    findings = [
        Finding("doc_number.malformed", "warn", "malformed", "〔201457号", 145, "body"),
        Finding("spam.gambling", "block", "gambling vocabulary", "投注", 6, "title"),
    ]

    table = format_table("000.json", CheckReport(findings, ""))

    header, columns, *rows = table.splitlines()
    assert header == "000.json: held (2 findings)"
    assert columns.split() == ["rule", "severity", "field", "position", "matched", "message"]
    # "message" starts at the same display column on every line (CJK characters are two wide).
    starts = [
        _display_width(line[: line.rindex(m)])
        for line, m in zip(rows, ["malformed", "gambling"], strict=True)
    ]
    assert starts[0] == starts[1] == _display_width(columns[: columns.index("message")])


def test_clean_report_is_one_line(article: ArticleFactory) -> None:
    assert format_table("001.json", run_checks(article("001"))) == "001.json: clean (0 findings)"


def test_long_matched_text_is_clipped() -> None:
    table = format_table("x", CheckReport([Finding("r", "warn", "m", "很长" * 50, 0)], ""))

    assert "…" in table and "很长" * 30 not in table


def test_json_lists_each_file_with_findings(article: ArticleFactory) -> None:
    data = json.loads(
        to_json([("000.json", run_checks(article("000"))), ("001.json", run_checks(article("001")))])
    )

    assert [(d["file"], d["verdict"], d["held"]) for d in data] == [
        ("000.json", "warnings", False),
        ("001.json", "clean", False),
    ]
    assert data[0]["findings"][0] == {
        "rule": "doc_number.malformed",
        "severity": "warn",
        "message": data[0]["findings"][0]["message"],
        "matched": "〔201457号",
        "position": 145,
        "field": "body",
    }


def _display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
