"""Gathering link and attachment statuses before the checks run (issue 19 §2).

Every link an article carries to a channel is probed through the safe fetcher (public addresses
only, bounded): HEAD, then a bounded GET when HEAD is not conclusive (many portals refuse HEAD).
404 / 410, a host that does not resolve, a redirect to another site and a non-public address are
what the `links` check reports; 5xx, timeouts and refused connections are "unchecked" — a portal
that is briefly down is never called broken. Answers are cached per URL in Redis, so a burst of
articles does not hammer the portal (an unchecked answer only briefly, so it is tried again soon).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels import fetch, urls
from channels.fetch import Fetched, FetchPolicy, SafeFetcher
from syndicator.checks.base import CheckInput, LinkStatus
from syndicator.checks.links import link_targets
from syndicator.checks.sanitize import sanitize
from syndicator.config import Settings

log = structlog.get_logger(__name__)

CACHE_KEY = "syn:link:{digest}"
UNCHECKED_TTL_SECONDS = 60
GET_FALLBACK_BYTES = 64 * 1024  # enough to know the page is there; a bigger attachment is there too
CONCURRENCY = 4


class LinkChecker:
    def __init__(
        self,
        fetcher: SafeFetcher,
        redis: Redis | None,
        *,
        ttl_seconds: int = 3600,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._fetcher = fetcher
        self._redis = redis
        self._ttl = ttl_seconds
        self._policy = FetchPolicy(
            max_bytes=GET_FALLBACK_BYTES,
            timeout_seconds=timeout_seconds,
            allow_loopback=fetcher.policy.allow_loopback,
        )
        self._gate = asyncio.Semaphore(CONCURRENCY)

    async def aclose(self) -> None:
        await self._fetcher.aclose()

    async def for_article(self, body_html: str, url: str, source_portal: str = "") -> tuple[LinkStatus, ...]:
        """The statuses of the links that survive sanitising (off-site ones are removed anyway),
        within a deadline: the portal waits for the webhook's answer."""
        if "<a" not in body_html.lower():  # most documents carry no link: spare the sanitising
            return ()
        cleaned = sanitize(CheckInput("", body_html, url=url, source_portal=source_portal)).html
        return await self.statuses(link_targets(cleaned, url), deadline=2 * self._policy.timeout_seconds)

    async def statuses(
        self, targets: Iterable[str], *, fresh: bool = False, deadline: float | None = None
    ) -> tuple[LinkStatus, ...]:
        """`fresh` skips the cache (the daily re-check) and refreshes it. A link without an
        answer by the deadline, or whose check failed, is unchecked."""
        targets = list(targets)
        if not targets:
            return ()
        tasks = [asyncio.ensure_future(self._status(url, fresh)) for url in targets]
        done, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:
            task.cancel()
        return tuple(_outcome(url, task, done) for url, task in zip(targets, tasks, strict=True))

    async def _status(self, url: str, fresh: bool) -> LinkStatus:
        key = CACHE_KEY.format(digest=hashlib.sha256(url.encode()).hexdigest()[:32])
        cached = None if fresh else await self._cached(key)
        if cached is not None:
            return LinkStatus(url=url, **cached)
        async with self._gate:
            status = await probe(self._fetcher, url, self._policy)
        ttl = UNCHECKED_TTL_SECONDS if status.state == "unchecked" else self._ttl
        await self._store(key, status, ttl)
        return status

    async def _cached(self, key: str) -> dict[str, Any] | None:
        if self._redis is None:
            return None
        try:
            raw = await self._redis.get(key)
        except RedisError:
            return None  # the cache is a courtesy to the portal, not a requirement
        return json.loads(raw) if raw else None

    async def _store(self, key: str, status: LinkStatus, ttl: int) -> None:
        if self._redis is None:
            return
        value = {k: v for k, v in asdict(status).items() if k != "url"}
        try:
            await self._redis.set(key, json.dumps(value), ex=max(ttl, 1))
        except RedisError:
            log.warning("link_cache_unavailable")


def _outcome(url: str, task: asyncio.Task[LinkStatus], done: set[asyncio.Task[LinkStatus]]) -> LinkStatus:
    if task not in done:
        return LinkStatus(url, "unchecked", "no answer in time")
    if task.exception() is not None:
        log.warning("link_check_failed", url=urls.strip_query(url), error=repr(task.exception()))
        return LinkStatus(url, "unchecked", "check failed")
    return task.result()


def link_checker(settings: Settings, redis: Redis | None) -> LinkChecker | None:
    """The configured checker, or None when link checking is off."""
    if settings.link_check == "off":
        return None
    policy = FetchPolicy(allow_loopback=settings.fetch_allow_loopback)
    return LinkChecker(
        SafeFetcher(policy),
        redis,
        ttl_seconds=settings.link_check_cache_seconds,
        timeout_seconds=settings.link_check_timeout_seconds,
    )


async def probe(fetcher: SafeFetcher, url: str, policy: FetchPolicy) -> LinkStatus:
    """HEAD, then a bounded GET unless HEAD said 2xx (or the portal is down: then no second try)."""
    try:
        answer = await fetcher.head(url, policy=policy)
        if not 200 <= answer.status < 300 and answer.status < 500:
            answer = await fetcher.get(url, policy=policy)
    except fetch.TooLarge:
        return LinkStatus(url, "ok", "large answer")  # a GET answered with more than we read
    except fetch.NameNotResolved as exc:
        return LinkStatus(url, "dns_failure", urls.host_of(url) or str(exc))
    except fetch.UnsafeUrl as exc:
        return LinkStatus(url, "refused", _reason(exc, url))
    except fetch.FetchError as exc:  # Unreachable: timeout, refused, dropped
        return LinkStatus(url, "unchecked", _reason(exc, url))
    return _judged(url, answer)


def _judged(url: str, answer: Fetched) -> LinkStatus:
    site = urls.site_of(url)
    for hop in answer.redirects:
        host = urls.host_of(hop)
        if site and not urls.on_domain(host, site):
            return LinkStatus(url, "offsite_redirect", host)
    if 200 <= answer.status < 300:
        return LinkStatus(url, "ok", str(answer.status))
    if answer.status in (404, 410):
        return LinkStatus(url, "broken", str(answer.status))
    return LinkStatus(url, "unchecked", f"HTTP {answer.status}")  # 5xx, 403, 429…: not proof


def _reason(exc: fetch.FetchError, url: str) -> str:
    return str(exc).removesuffix(f": {urls.strip_query(url)}")


def not_working(statuses: Sequence[LinkStatus]) -> list[LinkStatus]:
    return [s for s in statuses if s.state not in ("ok", "unchecked")]
