"""Output of `syndicator check`: an aligned table or JSON, and the exit code (0 clean, 1 warnings
only, 2 held)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict

from syndicator.checks.runner import CheckReport

EXIT_CLEAN = 0
EXIT_WARNINGS = 1
EXIT_HELD = 2
COLUMNS = ("rule", "severity", "field", "position", "matched", "message")
MATCHED_WIDTH = 40  # display columns; CJK characters take two


def exit_code(reports: Iterable[CheckReport]) -> int:
    code = EXIT_CLEAN
    for report in reports:
        if report.held:
            return EXIT_HELD
        if report.has_warnings:
            code = EXIT_WARNINGS
    return code


def verdict(report: CheckReport) -> str:
    return "held" if report.held else "warnings" if report.has_warnings else "clean"


def format_table(label: str, report: CheckReport) -> str:
    """A header line naming the file and its verdict, then one aligned row per finding."""
    header = f"{label}: {verdict(report)} ({len(report.findings)} finding{'s' * (len(report.findings) != 1)})"
    if not report.findings:
        return header
    rows = [COLUMNS] + [
        (f.rule, f.severity, f.field, str(f.position), _fit(f.matched, MATCHED_WIDTH), f.message)
        for f in report.findings
    ]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1] for row in rows
    ]
    return "\n".join([header, *(line.rstrip() for line in lines)])


def report_dict(label: str, report: CheckReport) -> dict[str, object]:
    return {
        "file": label,
        "verdict": verdict(report),
        "held": report.held,
        "has_warnings": report.has_warnings,
        "findings": [asdict(f) for f in report.findings],
    }


def to_json(results: Iterable[tuple[str, CheckReport]]) -> str:
    """A JSON array, one object per file; Chinese kept readable (ensure_ascii off)."""
    return json.dumps([report_dict(label, report) for label, report in results], ensure_ascii=False, indent=2)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _fit(text: str, width: int) -> str:
    text = " ".join(text.split())
    if _width(text) <= width:
        return text
    while _width(text) > width - 1:
        text = text[:-1]
    return text + "…"
