"""The WeCom application client and its recipients, built from Settings."""

from __future__ import annotations

import os

import httpx
from redis.asyncio import Redis

from channels.wechat.token import Cache, MemoryCache, RedisCache
from channels.wecom.client import Recipients, WeComClient, WeComTokens
from syndicator.config import Settings, WeComRecipients


class WeComNotConfiguredError(RuntimeError):
    """A WeCom setting the front end needs is missing."""


def build_client(settings: Settings, http: httpx.AsyncClient, redis: Redis | None) -> WeComClient:
    if not settings.wecom_corp_id or settings.wecom_agent_id is None or not settings.wecom_secret_env:
        raise WeComNotConfiguredError(
            "WeCom needs SYNDICATOR_WECOM_CORP_ID, SYNDICATOR_WECOM_AGENT_ID and SYNDICATOR_WECOM_SECRET_ENV"
        )
    secret = os.environ.get(settings.wecom_secret_env, "")
    if not secret:
        raise WeComNotConfiguredError(f"the variable {settings.wecom_secret_env} holds no WeCom app secret")
    cache: Cache = RedisCache(redis) if redis is not None else MemoryCache()
    tokens = WeComTokens(
        corp_id=settings.wecom_corp_id,
        agent_id=settings.wecom_agent_id,
        secret=secret,
        base_url=settings.wecom_api_url,
        http=http,
        cache=cache,
    )
    return WeComClient(
        base_url=settings.wecom_api_url, agent_id=settings.wecom_agent_id, http=http, tokens=tokens
    )


def recipients(group: WeComRecipients) -> Recipients:
    return Recipients(tuple(group.users), tuple(group.parties), tuple(group.tags))


def audience(settings: Settings, chat_id: int) -> Recipients:
    """The outbox addresses moderators or officers by chat id; officers default to the moderators."""
    officers = settings.wecom_officers
    if (
        officers is not None
        and not officers.empty
        and chat_id == settings.officer_chat_id
        and chat_id != settings.moderation_chat_id
    ):
        return recipients(officers)
    return recipients(settings.wecom_moderators)
