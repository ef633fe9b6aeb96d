"""Tamper detection measured on a labelled set (tests/checks/data/tamper-set.json): a reconstruction
of seed 004's hacked page, variants with other wording, structure-only tampering, and clean
government pages that use the same words innocently (crackdowns, the state lottery, venues).

Precision and recall of "held for a tamper finding" are printed (pytest -s) and asserted."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from syndicator.checks import run_checks
from syndicator.checks.base import CheckInput
from syndicator.checks.runner import CheckReport

ArticleFactory = Callable[..., CheckInput]
SET = json.loads((Path(__file__).parent / "data" / "tamper-set.json").read_text(encoding="utf-8"))
TAMPER_RULES = ("spam.", "tamper.", "sanitize.")
MIN_PRECISION = 1.0  # a false hold stops a real policy: none in the set
MIN_RECALL = 0.95


def build(case: dict[str, Any], article: ArticleFactory) -> CheckInput:
    if "article" in case:
        return CheckInput.from_article({"source_portal": "example.gov.cn", **case["article"]})
    inp = article(case["base"])
    body = inp.body_html
    for old, new in case.get("replace", []):
        assert old in body, f"{case['name']}: {old!r} not in corpus {case['base']}"
        body = body.replace(old, new, 1)
    body = case.get("prepend_body", "") + body + case.get("append_body", "")
    title = case.get("title_prefix", "") + inp.title + case.get("title_suffix", "")
    return replace(inp, title=title, body_html=body)


def tamper_held(report: CheckReport) -> bool:
    return any(f.rule.startswith(TAMPER_RULES) for f in report.blocking)


def test_precision_and_recall_on_the_labelled_set(article: ArticleFactory) -> None:
    outcomes = [(case, tamper_held(run_checks(build(case, article)))) for case in SET]
    tp = sum(1 for case, held in outcomes if held and case["label"] == "tampered")
    fp = sum(1 for case, held in outcomes if held and case["label"] == "clean")
    fn = sum(1 for case, held in outcomes if not held and case["label"] == "tampered")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(
        f"\ntamper set: {len(SET)} pages, tp={tp} fp={fp} fn={fn}",
        f"precision={precision:.2f} recall={recall:.2f}",
    )
    missed = [case["name"] for case, held in outcomes if held != (case["label"] == "tampered")]

    assert precision >= MIN_PRECISION and recall >= MIN_RECALL, missed


@pytest.mark.parametrize("case", [c for c in SET if c["label"] == "clean"], ids=lambda c: c["name"])
def test_clean_pages_are_never_held(case: dict[str, Any], article: ArticleFactory) -> None:
    assert run_checks(build(case, article)).blocking == []


def test_a_phrase_spliced_into_a_unit_name_is_named_with_its_position(article: ArticleFactory) -> None:
    [case] = [c for c in SET if c["name"].startswith("brand phrase inside the unit name")]
    inp = build(case, article)

    [finding] = [f for f in run_checks(inp).blocking if f.rule == "tamper.spliced_phrase"]

    assert finding.matched == "乐鱼体育官网"
    assert inp.body_text[finding.position :].startswith("乐鱼体育官网〕人民政府")
    assert "各县市区〔〖乐鱼体育官网〗〕人民政府" in finding.message


def test_seed_004_reworded_is_held_by_structure_and_vocabulary(article: ArticleFactory) -> None:
    [case] = [c for c in SET if c["name"].startswith("seed-004 reworded")]

    rules = {f.rule for f in run_checks(build(case, article)).blocking}

    assert {"sanitize.injected_tags", "tamper.signature", "tamper.spliced_phrase"} <= rules
    assert "spam.gambling" not in rules and "sanitize.active_content" not in rules
