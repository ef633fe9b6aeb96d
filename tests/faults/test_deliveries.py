"""The portal misbehaves: the same article delivered several times, an older version arriving
after a newer one (ordered by `updated_at`), a captured request replayed byte for byte."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlmodel import select

from channels.signing import signed_headers
from syndicator.demo.stack import derived_articles
from syndicator.models import Article, ArticleVersion
from tests.conftest import INGEST_SECRET
from tests.faults.conftest import CHANNELS, Stack, StackBuilder

pytestmark = [pytest.mark.timeout(120)]

ARTICLES = 20
CORRECTION = "<p>（更正：本文第三段数字已更正）</p>"


def versions(article: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(older, newer): the newer one carries a correction and a later updated_at."""
    older = {**article, "updated_at": "2024-03-01T09:00:00+08:00"}
    corrected = article["body_html"] + CORRECTION
    newer = {**article, "updated_at": "2024-03-01T10:00:00+08:00", "body_html": corrected}
    return older, newer


async def replay_is_idempotent_or_refused(api_url: str, payload: dict[str, Any]) -> None:
    """A byte-identical re-delivery of an accepted article is told `duplicate` (a portal that lost
    the answer asks again); a replay of a refused request stays 401."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    signature = signed_headers(INGEST_SECRET, "POST", "/api/v1/articles", body)
    headers = {"Content-Type": "application/json", **signature}
    refused_body = b'{"title": "no unit"}'
    refused_headers = {
        "Content-Type": "application/json",
        **signed_headers(INGEST_SECRET, "POST", "/api/v1/articles", refused_body),
    }
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        first = await client.post("/api/v1/articles", content=body, headers=headers)
        again = await client.post("/api/v1/articles", content=body, headers=headers)
        refused = await client.post("/api/v1/articles", content=refused_body, headers=refused_headers)
        replayed = await client.post("/api/v1/articles", content=refused_body, headers=refused_headers)
    assert first.status_code == 202, first.text
    assert again.status_code == 202 and again.json()["status"] == "duplicate", again.text
    assert again.json()["article_id"] == first.json()["article_id"] and again.json()["publications"] == []
    assert refused.status_code == 422, refused.text
    assert replayed.status_code == 401 and "replay" in replayed.text, replayed.text


async def test_duplicate_out_of_order_and_replayed_deliveries(build_stack: StackBuilder) -> None:
    stack = await build_stack(workers=2)
    articles = derived_articles(ARTICLES, tag="o")
    await stack.seed(articles)
    pairs = [versions(article) for article in articles]
    newest_first = await stack.deliver([newer for _, newer in pairs])
    assert {r.json()["status"] for r in newest_first} == {"created"}, [r.text for r in newest_first]
    late = [older for older, _ in pairs] + [newer for _, newer in pairs] * 2
    stack.rng.shuffle(late)
    answers = await stack.deliver(late, concurrency=8)
    assert all(r.status_code == 202 for r in answers), [r.text for r in answers if r.status_code != 202]
    assert {r.json()["status"] for r in answers} == {"stale", "duplicate"}
    assert all(not r.json()["publications"] for r in answers), "a re-delivery fanned out again"
    await replay_is_idempotent_or_refused(stack.api.url, pairs[0][1])
    stack.events["portal:duplicate"] += 2 * ARTICLES
    stack.events["portal:out-of-order"] += ARTICLES
    stack.events["portal:replay"] += 1
    await stack.wait_settled(ARTICLES * len(CHANNELS), timeout=90)
    await assert_newest_applied(stack, articles)
    live = stack.emulators.state("app")["articles"].values()
    assert all(CORRECTION in a["body_html"] for a in live), "an app post lacks the newest version"
    (await stack.verify(articles)).assert_exactly_once()


async def assert_newest_applied(stack: Stack, articles: list[dict[str, Any]]) -> None:
    async with stack.db.transaction() as session:
        stored = (await session.exec(select(Article))).all()
        rows = (await session.exec(select(ArticleVersion.status))).all()
    assert len(stored) == len(articles)
    statuses = sorted(rows)
    assert statuses.count("stale") == len(articles), statuses
