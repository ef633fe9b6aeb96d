"""The worker context: what every arq job needs (settings, database, Redis, HTTP, adapters), built once
per worker process and handed to jobs as `ctx["context"]`; the CLI opens one with `open_worker_context`."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from arq import ArqRedis

from channels.base import AccountConfig, ChannelAdapter, Platform
from channels.fetch import FetchPolicy, SafeFetcher
from channels.http import make_http_client
from channels.registry import build_adapter
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import ChannelAccount
from syndicator.pipeline.progress import PublicationProgress
from syndicator.quota import GuardedAdapter, Quota, credential_of

DEFAULT_API_BASE = {
    Platform.APP: "http://127.0.0.1:8081",
    Platform.WECHAT: "https://api.weixin.qq.com",
    Platform.WEIBO: "https://api.weibo.com",
}


@dataclass
class WorkerContext:
    settings: Settings
    db: Database
    redis: ArqRedis
    http: httpx.AsyncClient
    clock: Callable[[], float] = time.time  # epoch seconds; tests hand in a fake one
    _adapters: dict[AccountConfig, ChannelAdapter] = field(default_factory=dict)
    _fetcher: SafeFetcher | None = None

    @property
    def fetcher(self) -> SafeFetcher:
        """Content-driven fetches (feeds, link checks): public addresses only, bounded."""
        if self._fetcher is None:
            policy = FetchPolicy(
                timeout_seconds=self.settings.channel_timeout_seconds,
                allow_loopback=self.settings.fetch_allow_loopback,
            )
            self._fetcher = SafeFetcher(policy)
        return self._fetcher

    def adapter_for(self, account: ChannelAccount) -> ChannelAdapter:
        """One adapter per account configuration, reused: adapters hold token caches. Every
        platform call passes the credential's shared quota (syndicator/quota.py)."""
        config = account_config(account, public_ip=self.settings.public_ip, settings=self.settings)
        if config not in self._adapters:
            adapter = build_adapter(config, self.http, self.redis, PublicationProgress(self.db))
            if self.quota is not None:
                adapter = GuardedAdapter(adapter, self.quota, credential_of(config))
            self._adapters[config] = adapter
        return self._adapters[config]

    @property
    def quota(self) -> Quota | None:
        if self.redis is None:  # a bare adapter for tests that run without Redis
            return None
        return Quota(
            self.redis,
            self.settings.quota_calls_per_hour,
            background_share=self.settings.quota_background_share,
            action_share=self.settings.quota_action_share,
            margin_seconds=self.settings.quota_margin_seconds,
            clock=self.clock,
        )

    async def aclose(self) -> None:
        """Redis belongs to the arq worker, which closes it."""
        await self.http.aclose()
        if self._fetcher is not None:
            await self._fetcher.aclose()
        await self.db.dispose()


def account_config(
    account: ChannelAccount, *, public_ip: str | None = None, settings: Settings | None = None
) -> AccountConfig:
    assert account.id is not None
    platform = Platform(account.platform)
    image_hosts = tuple(settings.image_hosts.get(account.name, ())) if settings else ()
    return AccountConfig(
        account_id=account.id,
        platform=platform,
        name=account.name,
        api_base_url=(account.api_base_url or DEFAULT_API_BASE[platform]).rstrip("/"),
        app_id=account.app_id,
        secret=os.environ.get(account.secret_env) if account.secret_env else None,
        safe_domain=account.safe_domain,
        default_cover=account.default_cover,
        public_ip=public_ip,
        image_hosts=image_hosts,
        fetch_allow_loopback=settings.fetch_allow_loopback if settings else False,
    )


@asynccontextmanager
async def open_worker_context(settings: Settings) -> AsyncIterator[WorkerContext]:
    """Pipeline dependencies outside a worker (the CLI's `audit`): the caller owns them all."""
    from syndicator.db import open_database
    from syndicator.queue import connect

    redis = await connect(settings.redis_url, settings.queue_name)
    deps = WorkerContext(
        settings=settings,
        db=open_database(settings.database_url),
        redis=redis,
        http=make_http_client(settings.channel_timeout_seconds),
    )
    try:
        yield deps
    finally:
        await deps.aclose()
        await redis.aclose()
