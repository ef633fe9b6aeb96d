"""Issue 19 §2: links and attachments that do not work are found before publishing, without
calling a briefly-down portal broken, and the daily re-check finds links that rot later."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from redis.asyncio import Redis
from sqlmodel import col, select

from channels.fetch import FetchPolicy, SafeFetcher
from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.checks import run_checks
from syndicator.checks.base import CheckInput, LinkStatus
from syndicator.checks.links import link_targets
from syndicator.context import WorkerContext
from syndicator.linkcheck import UNCHECKED_TTL_SECONDS, LinkChecker
from syndicator.linkrot import audit_live_links
from syndicator.models import AuditEvent, CheckResult, Notification, PublicationState
from tests.support import (
    corpus_articles,
    post_signed,
    publications,
    run_worker,
    seed_units_with_app_accounts,
)


@dataclass
class Portal:
    url: str
    hits: dict[str, int]
    gone: set[str] = field(default_factory=set)


def portal_app(portal: Portal) -> FastAPI:
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "HEAD"])
    async def serve(path: str, request: Request) -> Response:
        portal.hits[path] = portal.hits.get(path, 0) + 1
        if path in portal.gone or path == "gone.pdf":
            return Response(status_code=404)
        if path == "removed.html":
            return Response(status_code=410)
        if path == "busy.html":
            return Response(status_code=503)
        if path == "nohead.html" and request.method == "HEAD":
            return Response(status_code=405)
        if path == "moved.html":  # the same loopback server under another name: another site
            return RedirectResponse(portal.url.replace("127.0.0.1", "localhost") + "/ok.html")
        if path == "renamed.html":
            return RedirectResponse("/ok.html")
        return Response(b"<html>ok</html>", media_type="text/html")

    return app


@pytest.fixture
def portal() -> Iterator[Portal]:
    portal = Portal(url="", hits={})
    with BackgroundServer(portal_app(portal)) as server:
        portal.url = server.url
        yield portal


@pytest.fixture
async def checker(redis_url: str) -> AsyncIterator[LinkChecker]:
    redis = Redis.from_url(redis_url)
    checker = LinkChecker(SafeFetcher(FetchPolicy(allow_loopback=True)), redis, timeout_seconds=2)
    yield checker
    await checker.aclose()
    await redis.aclose()


async def test_each_kind_of_answer_is_judged(checker: LinkChecker, portal: Portal) -> None:
    paths = ["ok.html", "gone.pdf", "removed.html", "busy.html", "nohead.html", "moved.html", "renamed.html"]
    statuses = await checker.statuses([f"{portal.url}/{p}" for p in paths])
    assert [s.state for s in statuses] == [
        "ok", "broken", "broken", "unchecked", "ok", "offsite_redirect", "ok",
    ]  # fmt: skip
    assert statuses[5].detail == "localhost"


async def test_a_portal_that_is_down_is_unchecked_not_broken(checker: LinkChecker, redis_url: str) -> None:
    with BackgroundServer(FastAPI()) as server:
        closed = server.url
    (status,) = await checker.statuses([f"{closed}/notice.html"])  # connection refused
    assert status.state == "unchecked"
    redis = Redis.from_url(redis_url)
    (key,) = await redis.keys("syn:link:*")
    assert 0 < await redis.ttl(key) <= UNCHECKED_TTL_SECONDS  # tried again soon
    await redis.aclose()


async def test_dns_failure_and_non_public_addresses_are_findings(redis_url: str) -> None:
    async def nowhere(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    checker = LinkChecker(SafeFetcher(resolver=nowhere), None)
    intranet = LinkChecker(SafeFetcher(), None)  # production policy: loopback is not public
    try:
        (dns,) = await checker.statuses(["https://old.example.gov.cn/a.html"])
        (refused,) = await intranet.statuses(["http://127.0.0.1:9/admin"])
    finally:
        await checker.aclose()
        await intranet.aclose()
    assert (dns.state, dns.detail) == ("dns_failure", "old.example.gov.cn")
    assert refused.state == "refused" and "loopback" in refused.detail


async def test_answers_are_cached_per_url_so_a_burst_spares_the_portal(checker, portal: Portal) -> None:
    url = f"{portal.url}/gone.pdf"
    for _ in range(5):
        (status,) = await checker.statuses([url])
        assert status.state == "broken"
    assert portal.hits["gone.pdf"] == 2  # one HEAD, one GET to confirm
    await checker.statuses([url], fresh=True)
    assert portal.hits["gone.pdf"] == 4


def test_the_check_turns_statuses_into_findings_with_the_configured_severity() -> None:
    links = (
        LinkStatus("https://a.gov.cn/x.pdf", "broken", "404"),
        LinkStatus("https://a.gov.cn/y.html", "unchecked", "HTTP 503"),
        LinkStatus("https://a.gov.cn/z.html", "ok", "200"),
    )
    body = "<p>见附件</p>"
    warned = run_checks(CheckInput("通知", body, links=links)).findings
    blocked = run_checks(CheckInput("通知", body, links=links, link_severity="block"))
    assert [(f.rule, f.severity, f.matched) for f in warned] == [
        ("links.broken", "warn", "https://a.gov.cn/x.pdf")
    ]
    assert blocked.held


def test_link_targets_are_absolute_http_links_once_each() -> None:
    body = (
        '<a href="/a.pdf">附件</a><a href="/a.pdf#p2">附件</a><a href="#top">顶部</a>'
        '<a href="mailto:x@a.gov.cn">邮箱</a><a href="https://b.gov.cn/c">c</a>'
    )
    assert link_targets(body, "https://www.a.gov.cn/art/1.html") == [
        "https://www.a.gov.cn/a.pdf",
        "https://b.gov.cn/c",
    ]


def _article(portal: Portal) -> dict[str, Any]:
    article = corpus_articles()[0]
    article["url"] = f"{portal.url}/art/1.html"  # the links below are on the article's own site
    article["body_html"] += (
        f'<p>附件：<a href="{portal.url}/gone.pdf">申报表</a>，'
        f'<a href="{portal.url}/busy.html">办事指南</a>，<a href="{portal.url}/ok.html">原文</a></p>'
    )
    return article


@pytest.fixture
def settings(settings):
    """The test portal listens on loopback: the test-only allowance admits it."""
    return settings.model_copy(update={"fetch_allow_loopback": True, "moderation_chat_id": -100})


async def test_a_dead_attachment_warns_and_the_article_is_published(
    db, api, settings, app_emulator, portal: Portal
) -> None:
    article = _article(portal)
    await seed_units_with_app_accounts(db, app_emulator.url, [article])
    answer = await post_signed(api, article)
    assert answer.json()["status"] == "created"
    await run_worker(settings)
    async with db.transaction() as session:
        links = select(CheckResult).where(col(CheckResult.rule).startswith("links."))
        findings = (await session.exec(links)).all()
    assert [(f.rule, f.severity, f.matched) for f in findings] == [
        ("links.broken", "warn", f"{portal.url}/gone.pdf")
    ]  # busy.html (503) is unchecked, not broken
    assert {p.state for p in await publications(db)} == {PublicationState.PUBLISHED}


async def test_a_dead_attachment_can_be_made_to_hold_the_article(
    db, settings, app_emulator, portal: Portal
) -> None:
    strict = settings.model_copy(update={"link_check": "block"})
    article = _article(portal)
    await seed_units_with_app_accounts(db, app_emulator.url, [article])
    with BackgroundServer(create_app(strict)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            answer = await post_signed(client, article)
    assert answer.json()["status"] == "held"
    assert await publications(db) == []


async def test_the_daily_recheck_reports_links_that_rot_after_publishing(
    db, api, settings, app_emulator, portal: Portal, redis_url: str
) -> None:
    article = _article(portal)
    await seed_units_with_app_accounts(db, app_emulator.url, [article])
    await post_signed(api, article)
    await run_worker(settings)
    portal.gone.add("ok.html")  # the portal moved the page after publishing
    redis = Redis.from_url(redis_url)
    deps = WorkerContext(settings=settings, db=db, redis=redis, http=httpx.AsyncClient())  # type: ignore[arg-type]
    try:
        rot = await audit_live_links(deps)
    finally:
        await deps.http.aclose()
        if deps._fetcher is not None:
            await deps._fetcher.aclose()
        await redis.aclose()
    rotten = sorted((r.url.rsplit("/", 1)[1], r.state) for r in rot)
    assert rotten == [("gone.pdf", "broken"), ("ok.html", "broken")]
    async with db.transaction() as session:
        report = (await session.exec(select(AuditEvent).where(AuditEvent.action == "links.report"))).one()
        rot_alerts = select(Notification).where(col(Notification.key).startswith("linkrot:"))
        told = (await session.exec(rot_alerts)).all()
    assert len(report.detail["rot"]) == 2 and len(told) == 2
