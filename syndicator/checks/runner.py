"""Runs every check on one article version, in order: sanitise the HTML first (channels receive only
the sanitised body), then the text rules on the title and the sanitised body's plain text."""

from __future__ import annotations

from dataclasses import dataclass, replace

from syndicator.checks import ads, doc_number, links, personal_data, sanitize, secrecy, spam, tamper
from syndicator.checks.base import BLOCK, WARN, Check, CheckInput, Finding
from syndicator.checks.wording import WordingDictionary, default_dictionary

# Order matters only for the report: tampering first, then what would hold, then what would warn.
TEXT_CHECKS: tuple[Check, ...] = (
    spam.check,
    tamper.check,
    personal_data.check,
    secrecy.check,
    ads.check,
    doc_number.check,
    links.check,
)


@dataclass(frozen=True)
class CheckReport:
    findings: list[Finding]
    sanitized_html: str  # what channels should receive

    @property
    def held(self) -> bool:
        return any(f.severity == BLOCK for f in self.findings)

    @property
    def has_warnings(self) -> bool:
        return any(f.severity == WARN for f in self.findings)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == BLOCK]


def run_checks(inp: CheckInput, *, wording: WordingDictionary | None = None) -> CheckReport:
    """`wording=None` uses the shipped dictionary; pass `load_wording(office_file)` to extend it."""
    sanitized = sanitize.sanitize(inp)
    cleaned = replace(inp, body_html=sanitized.html)
    findings = list(sanitized.findings)
    for check in (*TEXT_CHECKS, wording or default_dictionary()):
        findings += check(cleaned)
    return CheckReport(findings, sanitized.html)
