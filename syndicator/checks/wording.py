"""Wording: known wrong or sensitive forms and their correct form, from a dictionary the office
extends with a TSV file (no code change), matched with an Aho-Corasick automaton."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import ahocorasick

from syndicator.checks.base import CheckInput, FieldName, Finding, Severity

RULE = "wording"
DEFAULT_PATH = Path(__file__).parent / "data" / "wording.tsv"
# block / warn report; "ok" marks a longer right form that contains a wrong one (按装机容量);
# "off" in an office file switches a shipped entry off.
EntrySeverity = Literal["block", "warn", "ok", "off"]
_SEVERITIES: dict[str, EntrySeverity] = {"block": "block", "warn": "warn", "ok": "ok", "off": "off"}


class WordingFileError(ValueError):
    """A dictionary line that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class WordingEntry:
    wrong: str
    correct: str
    severity: EntrySeverity = "warn"
    note: str = ""


class WordingDictionary:
    """Immutable once built; build a new one to add entries."""

    def __init__(self, entries: Iterable[WordingEntry]) -> None:
        self.entries: Mapping[str, WordingEntry] = {e.wrong: e for e in entries if e.severity != "off"}
        self._automaton = ahocorasick.Automaton()
        for wrong, entry in self.entries.items():
            self._automaton.add_word(wrong, entry)
        if self.entries:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self.entries)

    def __call__(self, inp: CheckInput) -> list[Finding]:
        findings: list[Finding] = []
        for field, text in inp.texts():
            findings += self.find(text, field)
        return findings

    def merged(self, entries: Iterable[WordingEntry]) -> WordingDictionary:
        """A new dictionary where `entries` override ours by wrong form ("off" removes one)."""
        combined = dict(self.entries)
        for entry in entries:
            combined[entry.wrong] = entry
        return WordingDictionary(combined.values())

    def find(self, text: str, field: FieldName = "body") -> list[Finding]:
        findings: list[Finding] = []
        for start, entry in self._longest_matches(text):
            if entry.severity in ("block", "warn"):
                severity: Severity = "block" if entry.severity == "block" else "warn"
                message = f"wrong or sensitive form; use {entry.correct}" + (
                    f" ({entry.note})" if entry.note else ""
                )
                findings.append(Finding(RULE, severity, message, entry.wrong, start, field))
        return findings

    def _longest_matches(self, text: str) -> list[tuple[int, WordingEntry]]:
        """Leftmost-longest, non-overlapping: an "ok" form shadows the wrong form inside it."""
        if not self.entries:
            return []
        hits = sorted(
            ((end - len(e.wrong) + 1, e) for end, e in self._automaton.iter(text)),
            key=lambda hit: (hit[0], -len(hit[1].wrong)),
        )
        chosen: list[tuple[int, WordingEntry]] = []
        covered_to = 0
        for start, entry in hits:
            if start >= covered_to:
                chosen.append((start, entry))
                covered_to = start + len(entry.wrong)
        return chosen


def parse_entries(lines: Iterable[str], source: str = "<wording>") -> list[WordingEntry]:
    """wrong<TAB>correct<TAB>severity<TAB>note; '#' comments and blank lines are skipped."""
    entries: list[WordingEntry] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        wrong = cells[0]
        correct = cells[1] if len(cells) > 1 else ""
        severity = _SEVERITIES.get((cells[2] if len(cells) > 2 and cells[2] else "warn").lower())
        if not wrong or severity is None or (severity in ("block", "warn") and not correct):
            raise WordingFileError(
                f"{source}:{number}: expected wrong<TAB>correct<TAB>block|warn|ok|off[<TAB>note]"
            )
        note = cells[3] if len(cells) > 3 else ""
        entries.append(WordingEntry(wrong, correct, severity, note))
    return entries


@lru_cache(maxsize=1)
def default_dictionary() -> WordingDictionary:
    """The shipped starter set, read once per process."""
    return WordingDictionary(_read(DEFAULT_PATH))


def load_wording(office_file: str | Path | None = None) -> WordingDictionary:
    """The shipped dictionary, with the office's file (same format) merged on top."""
    base = default_dictionary()
    return base if office_file is None else base.merged(_read(Path(office_file)))


def _read(path: Path) -> list[WordingEntry]:
    with path.open(encoding="utf-8-sig") as handle:  # offices save TSVs from Excel, BOM and all
        return parse_entries(handle, str(path))
