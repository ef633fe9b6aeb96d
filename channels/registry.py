"""Platform name -> adapter class. The worker builds adapters through here, nobody else."""

from __future__ import annotations

from importlib import import_module

import httpx
from redis.asyncio import Redis

from channels.base import AccountConfig, Capabilities, ChannelAdapter, Platform, ProgressLog

_ADAPTERS = {
    Platform.APP: "channels.app.adapter:AppAdapter",
    Platform.WECHAT: "channels.wechat.adapter:WeChatAdapter",
    Platform.WEIBO: "channels.weibo.adapter:WeiboAdapter",
}


def build_adapter(
    account: AccountConfig,
    http: httpx.AsyncClient,
    redis: Redis | None = None,
    progress: ProgressLog | None = None,
) -> ChannelAdapter:
    module_name, class_name = _ADAPTERS[account.platform].split(":")
    adapter_class = getattr(import_module(module_name), class_name)
    adapter = adapter_class(account=account, http=http, redis=redis, progress=progress)
    return adapter


def capabilities_of(platform: Platform) -> Capabilities:
    """A platform's capabilities without building an adapter (they are the class's)."""
    module_name, class_name = _ADAPTERS[platform].split(":")
    return getattr(import_module(module_name), class_name).capabilities
