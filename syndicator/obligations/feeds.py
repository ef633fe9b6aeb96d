"""Polling upstream feeds (RSS / Atom) with conditional requests, and classifying their items.

The fetch goes through the safe fetcher (public addresses only, size-capped, redirects checked;
If-None-Match / If-Modified-Since from FeedState); feedparser parses the body. No database
transaction is held open across the network call.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import structlog

from channels import urls
from channels.fetch import Fetched, FetchError, FetchPolicy, SafeFetcher
from syndicator.db import Database
from syndicator.models import FeedState
from syndicator.obligations.config import ClassificationRules, FeedSource, ObligationConfig
from syndicator.obligations.scope import ScopeError, load_tree
from syndicator.obligations.service import ItemIn, record_item

log = structlog.get_logger(__name__)
FEED_POLICY = FetchPolicy(max_bytes=5 * 1024 * 1024)  # a feed is a few hundred KB at most


@dataclass(frozen=True)
class PollResult:
    url: str
    status: int
    items: int = 0  # items in the feed
    new_items: int = 0  # not seen before
    targets_opened: int = 0
    error: str | None = None


def find_doc_number(text: str, rules: ClassificationRules) -> str | None:
    found = re.search(rules.doc_number_pattern, text)
    return found.group(0) if found else None


def classify(category: str | None, doc_number: str | None, rules: ClassificationRules) -> bool:
    """Important policy: a listed category, or a document number outside the excluded categories."""
    if category and category in rules.excluded_categories:
        return False
    if category and category in rules.important_categories:
        return True
    return doc_number is not None


def parse_items(body: bytes, source: FeedSource) -> list[ItemIn]:
    parsed = feedparser.parse(body)
    items = []
    for entry in parsed.entries:
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        link = _web_link(entry.get("link"))
        if published is None or not link:
            log.warning("feed_item_skipped", feed=source.url, guid=entry.get("id"), reason="no date or link")
            continue
        tags = entry.get("tags") or []
        category = tags[0].get("term") if tags else None
        title = str(entry.get("title", "")).strip()
        doc_number = find_doc_number(f"{title} {entry.get('summary', '')}", source.rules)
        items.append(
            ItemIn(
                source=source.source,
                guid=str(entry.get("id") or link),
                title=title,
                url=str(link),
                published_at=datetime.fromtimestamp(calendar.timegm(published), UTC),
                important=classify(category, doc_number, source.rules),
                doc_number=doc_number,
                category=category,
                source_level=source.level,
            )
        )
    return items


def _web_link(value: object) -> str | None:
    """An item's link as a browser reads it; anything but an http(s) URL is no link."""
    try:
        return urls.web_url(str(value)).href if value else None
    except urls.BadUrl:
        return None


def conditional_headers(state: FeedState | None) -> dict[str, str]:
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if state is not None and state.etag:
        headers["If-None-Match"] = state.etag
    if state is not None and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


async def poll_feed(
    db: Database, fetcher: SafeFetcher, source: FeedSource, *, config: ObligationConfig, now: datetime
) -> PollResult:
    async with db.transaction() as session:
        state = await session.get(FeedState, source.url)
        headers = conditional_headers(state)
    policy = FetchPolicy(
        max_bytes=FEED_POLICY.max_bytes,
        timeout_seconds=fetcher.policy.timeout_seconds,
        allow_loopback=fetcher.policy.allow_loopback,
    )
    try:
        response = await fetcher.get(source.url, headers=headers, policy=policy)
    except FetchError as exc:
        log.warning("feed_unreachable", feed=exc.url, error=str(exc))
        return PollResult(source.url, 0, error=str(exc))
    if response.status == 304:
        await _save_state(db, source.url, response, now, keep=True)
        return PollResult(source.url, 304)
    if response.status != 200:
        log.warning("feed_error", feed=urls.strip_query(source.url), status=response.status)
        return PollResult(source.url, response.status, error=f"HTTP {response.status}")
    items = parse_items(response.body, source)
    new_items = opened = 0
    async with db.transaction() as session:
        source_unit_id = await _source_unit(session, source)
        for item in items:
            _, new, count = await record_item(
                session, item, source_unit_id=source_unit_id, config=config, now=now
            )
            new_items += new
            opened += count
    await _save_state(db, source.url, response, now, keep=False)
    log.info("feed_polled", feed=source.url, items=len(items), new_items=new_items, targets=opened)
    return PollResult(source.url, 200, len(items), new_items, opened)


async def _source_unit(session: Any, source: FeedSource) -> int | None:
    if source.unit is None:
        return None
    try:
        return (await load_tree(session)).by_name(source.unit).id
    except ScopeError:
        log.warning("feed_unit_unknown", feed=source.url, unit=source.unit)
        return None


async def _save_state(db: Database, url: str, response: Fetched, now: datetime, *, keep: bool) -> None:
    """After 200 the validators are replaced (absent ones cleared); after 304 new ones, if sent, win."""
    async with db.transaction() as session:
        state = await session.get(FeedState, url) or FeedState(url=url)
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        state.etag = etag or (state.etag if keep else None)
        state.last_modified = modified or (state.last_modified if keep else None)
        state.polled_at = now
        session.add(state)


async def poll_all(
    db: Database,
    fetcher: SafeFetcher,
    feeds: Sequence[FeedSource],
    *,
    config: ObligationConfig,
    now: datetime,
) -> list[PollResult]:
    return [await poll_feed(db, fetcher, feed, config=config, now=now) for feed in feeds]
