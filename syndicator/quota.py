"""One call budget per platform credential, kept in Redis and shared by every caller.

A Weibo token or a WeChat app id is one quota on the platform's side, whichever job spends it:
publishing, comment polling, moderation actions and consistency audits all go through
`GuardedAdapter`, which `WorkerContext.adapter_for` wraps around every adapter. So:

- a rate-limit answer from any call (the adapter raises channels.base.RateLimitedError with the
  reset the platform reported) blocks the credential until that reset plus a margin; until then
  no caller reaches the platform, each gets a RateLimitedError with the time left instead. A
  limit on one API only (`per_api`: WeChat's daily quota per API, Weibo's share limit) holds back
  the callers of the same kind (publishing, actions or background) and leaves the others alone,
  so comment polling exhausting comment/list never stops a publication for the rest of the day;
- calls are counted per clock hour; polling and audits may spend only part of the budget and
  moderation actions a larger part, so what is left is publishing's (publishing is never refused
  by the count, only by a block the platform caused).

The block and the counters are rebuilt by the next platform answer if Redis is flushed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.base import (
    AccountConfig,
    ArticleContent,
    ChannelAdapter,
    CommentAction,
    CommentPage,
    LiveContent,
    Platform,
    PublishResult,
    RateLimitedError,
    RemoteComment,
    RenderedPost,
)

log = structlog.get_logger(__name__)

Clock = Callable[[], float]  # epoch seconds
T = TypeVar("T")
WAIT_CODE = "quota_wait"  # the code of a RateLimitedError raised here, without calling the platform
HOUR = 3600
KEY_SLACK_MS = 60_000  # keys outlive their meaning by a minute, so a slow clock never reads a gap

# Set the block to ARGV[1] (an epoch) unless a later one is already set: never shorten a block.
_BLOCK_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return tostring(current)
"""


class Use(StrEnum):
    """Who is calling, in order of priority."""

    PUBLISH = "publish"
    ACTION = "action"  # applying a moderator's decision
    BACKGROUND = "background"  # comment polling, consistency audits


@dataclass(frozen=True)
class Credential:
    platform: str
    id: str

    @property
    def key(self) -> str:
        return f"quota:{self.platform}:{self.id}"


def credential_of(account: AccountConfig) -> Credential:
    """The platform's unit of quota: a WeChat app id, a Weibo token (hashed: never in a key)."""
    if account.platform is Platform.WECHAT and account.app_id:
        return Credential("wechat", account.app_id)
    if account.platform is Platform.WEIBO and account.secret:
        return Credential("weibo", hashlib.sha256(account.secret.encode()).hexdigest()[:16])
    return Credential(account.platform.value, f"account-{account.account_id}")


@dataclass
class Quota:
    redis: Redis
    calls_per_hour: dict[str, int]
    background_share: float = 0.5
    action_share: float = 0.8
    margin_seconds: float = 5.0
    clock: Clock = time.time

    async def admit(self, credential: Credential, use: Use) -> None:
        """Count one call, or raise RateLimitedError (code `quota_wait`) when it must wait."""
        now = self.clock()
        hour = int(now // HOUR)
        used_key = f"{credential.key}:used:{hour}"
        try:
            blocked, blocked_use, used = await self.redis.mget(
                f"{credential.key}:blocked", f"{credential.key}:blocked:{use.value}", used_key
            )
            wait = max(float(blocked or 0), float(blocked_use or 0)) - now
            if wait <= 0:
                wait = self._over_share(credential, use, int(used or 0), now)
            if wait <= 0:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.incr(used_key)
                    pipe.pexpire(used_key, HOUR * 1000 + KEY_SLACK_MS)
                    await pipe.execute()
                return
        except RedisError as exc:  # the platform still has its own limit: let the call through
            log.warning("quota_unavailable", credential=credential.key, error=str(exc))
            return
        raise RateLimitedError(
            f"{credential.platform} quota: {use.value} waits {wait:.0f} s",
            retry_after=wait,
            code=WAIT_CODE,
            platform=credential.platform,
        )

    def _over_share(self, credential: Credential, use: Use, used: int, now: float) -> float:
        """Seconds until the next hour when `use` has spent its share of this hour, else 0."""
        limit = self.calls_per_hour.get(credential.platform, 0)
        share = {Use.PUBLISH: None, Use.ACTION: self.action_share, Use.BACKGROUND: self.background_share}[use]
        if not limit or share is None or used < limit * share:
            return 0.0
        return HOUR - now % HOUR

    async def block(self, credential: Credential, retry_after: float, use: Use | None = None) -> float:
        """Stop every caller (or, for a limit on one API, the callers of `use`) until the reported
        reset plus the margin; the seconds to wait."""
        now = self.clock()
        until = now + max(retry_after, 0.0) + self.margin_seconds  # a reset of 0 means "now"
        ttl_ms = int((until - now) * 1000) + KEY_SLACK_MS
        key = f"{credential.key}:blocked" + (f":{use.value}" if use else "")
        try:
            until = float(await self.redis.eval(_BLOCK_SCRIPT, 1, key, str(until), str(ttl_ms)))  # type: ignore[misc]  # redis-py types async commands as `Awaitable[T] | T`
        except RedisError as exc:
            log.warning("quota_unavailable", credential=credential.key, error=str(exc))
        log.warning("quota_blocked", credential=credential.key, seconds=round(until - now, 1))
        return until - now

    async def blocked_for(self, credential: Credential) -> float:
        """Seconds the credential stays blocked (0 when free)."""
        blocked = await self.redis.get(f"{credential.key}:blocked")
        return max(float(blocked or 0) - self.clock(), 0.0)


class GuardedAdapter:
    """An adapter whose platform calls all pass the credential's quota first."""

    def __init__(self, adapter: ChannelAdapter, quota: Quota, credential: Credential) -> None:
        self.inner = adapter
        self.capabilities = adapter.capabilities
        self._quota = quota
        self.credential = credential

    def render(self, article: ArticleContent) -> RenderedPost:
        return self.inner.render(article)

    async def publish(self, post: RenderedPost, key: str) -> PublishResult:
        return await self._call(Use.PUBLISH, self.inner.publish, post, key)

    async def recover(self, post: RenderedPost, key: str) -> PublishResult | None:
        return await self._call(Use.PUBLISH, self.inner.recover, post, key)

    async def check_status(self, result: PublishResult) -> PublishResult:
        return await self._call(Use.PUBLISH, self.inner.check_status, result)

    async def update(self, remote_id: str, post: RenderedPost, key: str) -> PublishResult:
        return await self._call(Use.PUBLISH, self.inner.update, remote_id, post, key)

    async def withdraw(self, remote_id: str) -> None:
        await self._call(Use.PUBLISH, self.inner.withdraw, remote_id)

    async def fetch_live(self, remote_id: str) -> LiveContent | None:
        return await self._call(Use.BACKGROUND, self.inner.fetch_live, remote_id)

    async def list_comments(self, cursor: str | None) -> CommentPage:
        return await self._call(Use.BACKGROUND, self.inner.list_comments, cursor)

    def comment_target(self, result: PublishResult) -> str | None:
        return self.inner.comment_target(result)

    async def list_article_comments(self, target: str, cursor: str | None) -> CommentPage:
        return await self._call(Use.BACKGROUND, self.inner.list_article_comments, target, cursor)

    async def moderate_comment(
        self, comment: RemoteComment, action: CommentAction, text: str | None = None
    ) -> None:
        await self._call(Use.ACTION, self.inner.moderate_comment, comment, action, text)

    async def refresh_auth(self) -> None:
        await self.inner.refresh_auth()

    async def verify(self) -> None:
        await self._call(Use.BACKGROUND, self.inner.verify)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def _call(self, use: Use, method: Callable[..., Awaitable[T]], *args: Any) -> T:
        await self._quota.admit(self.credential, use)
        try:
            return await method(*args)
        except RateLimitedError as exc:
            scope = use if exc.per_api else None  # one API's limit holds back its kind of caller only
            exc.retry_after = await self._quota.block(self.credential, exc.retry_after, scope)
            raise
