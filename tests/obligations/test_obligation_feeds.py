"""Polling the corpus feed from a local server: conditional requests, dedupe, classification."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response
from sqlmodel import select

from channels.fetch import SafeFetcher
from syndicator.background_server import BackgroundServer
from syndicator.db import Database
from syndicator.models import FeedState, UpstreamItem
from syndicator.obligations.clock import shanghai
from syndicator.obligations.config import FeedSource
from syndicator.obligations.feeds import poll_feed
from tests.obligations.conftest import CONFIG, Org, obligations
from tests.support import loopback_fetcher

FEED = (
    Path(__file__).resolve().parents[2]
    / "syndicator"
    / "demo"
    / "corpus"
    / "upstream"
    / "govcn-policy.rss.xml"
)
ETAG = '"govcn-v1"'
LAST_MODIFIED = "Wed, 25 Nov 2026 12:41:00 GMT"
NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def feed_app(seen: list[dict[str, str]]) -> FastAPI:
    app = FastAPI()

    @app.get("/zhengce.rss")
    async def feed(request: Request) -> Response:
        seen.append(dict(request.headers))
        if request.headers.get("if-none-match") == ETAG:
            return Response(status_code=304, headers={"ETag": ETAG})
        return Response(
            FEED.read_bytes(),
            media_type="application/rss+xml",
            headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED},
        )

    return app


@pytest.fixture
def feed_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    with BackgroundServer(feed_app(seen)) as server:
        yield f"{server.url}/zhengce.rss", seen


async def test_feed_polled_with_etag_deduped_and_classified(
    db: Database, org: Org, feed_server: tuple[str, list[dict[str, str]]]
) -> None:
    url, seen = feed_server
    source = FeedSource(url=url, source="www.gov.cn")
    async with loopback_fetcher() as http:
        first = await poll_feed(db, http, source, config=CONFIG, now=NOW)
        second = await poll_feed(db, http, source, config=CONFIG, now=NOW)
    assert (first.status, first.items, first.new_items) == (200, 5, 5)
    assert first.targets_opened == 4 * len(org.accounts)  # four documents; the news item opens nothing
    assert second.status == 304 and second.new_items == 0
    assert "if-none-match" not in seen[0] and seen[1]["if-none-match"] == ETAG
    assert seen[1]["if-modified-since"] == LAST_MODIFIED
    async with db.transaction() as session:
        state = await session.get(FeedState, url)
        items = {i.guid: i for i in (await session.exec(select(UpstreamItem))).all()}
    assert state is not None and (state.etag, state.last_modified) == (ETAG, LAST_MODIFIED)
    assert not items["govcn-news-example"].important
    assert items["govcn-2018-123"].doc_number == "国办发〔2018〕123号"
    assert items["govcn-ling-711"].doc_number == "国务院令第711号" and items["govcn-ling-711"].important
    evening = [o for o in await obligations(db) if o.item_id == items["govcn-2018-123"].id]
    assert {shanghai(o.deadline_at) for o in evening} == {"2018-12-28 05:30"}  # 17:30 + 12 h, next morning


async def test_feed_without_validators_is_refetched_and_still_deduped(db: Database, org: Org) -> None:
    app = FastAPI()

    @app.get("/plain.rss")
    async def plain() -> Response:
        return Response(FEED.read_bytes(), media_type="application/rss+xml")

    with BackgroundServer(app) as server:
        source = FeedSource(url=f"{server.url}/plain.rss", source="www.gov.cn")
        async with loopback_fetcher() as http:
            await poll_feed(db, http, source, config=CONFIG, now=NOW)
            again = await poll_feed(db, http, source, config=CONFIG, now=NOW)
    assert (again.status, again.items, again.new_items, again.targets_opened) == (200, 5, 0, 0)
    assert len(await obligations(db)) == 4 * len(org.accounts)


async def test_a_feed_on_a_non_public_address_is_refused_by_default(
    db: Database, org: Org, feed_server: tuple[str, list[dict[str, str]]]
) -> None:
    url, seen = feed_server
    fetcher = SafeFetcher()  # production policy: public addresses only
    try:
        source = FeedSource(url=url, source="www.gov.cn")
        result = await poll_feed(db, fetcher, source, config=CONFIG, now=NOW)
    finally:
        await fetcher.aclose()
    assert result.status == 0 and result.error and "loopback" in result.error
    assert seen == []
