"""Shared helpers for the checks tests: the real corpus, as plain values, and tampered variants.

Tests take these as fixtures and never import this module (pytest loads several conftest modules)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from syndicator.checks.base import CheckInput

CORPUS = Path(__file__).resolve().parents[2] / "syndicator" / "demo" / "corpus"
ARTICLE_NAMES = ("000", "001", "002", "003")
# What the corpus units register as their own contact numbers (`units add --contact-phone`).
REGISTERED_CONTACTS = {"兴宁市人民政府办公室": frozenset({"6166558"})}

ArticleFactory = Callable[..., CheckInput]


def load_article(name: str) -> dict[str, Any]:
    return json.loads((CORPUS / "portal-articles" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(params=ARTICLE_NAMES)
def corpus_name(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over every corpus article."""
    return str(request.param)


@pytest.fixture
def article() -> ArticleFactory:
    """article("001", title=..., body_html=...) -> a CheckInput built from a real corpus article."""

    def make(name: str, **overrides: Any) -> CheckInput:
        real = CheckInput.from_article(load_article(name))
        real = replace(real, allowed_contacts=REGISTERED_CONTACTS.get(real.unit, frozenset()))
        return replace(real, **overrides)

    return make


@pytest.fixture
def tampered(article: ArticleFactory) -> Callable[[str, str], CheckInput]:
    """tampered("001", "<div hidden>…</div>") -> the article with markup injected before its body."""

    def make(name: str, injected: str) -> CheckInput:
        real = article(name)
        return replace(real, body_html=injected + real.body_html)

    return make


@pytest.fixture(scope="session")
def citizen_comments() -> list[dict[str, str]]:
    return json.loads((CORPUS / "comments" / "citizen-comments.json").read_text(encoding="utf-8"))
