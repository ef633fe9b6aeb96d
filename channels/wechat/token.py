"""The access token of one WeChat app id, and the authenticated calls that spend it.

WeChat allows one live token per app id and each refresh can invalidate the previous one
(https://developers.weixin.qq.com/doc/service/en/Basic_Information/Get_access_token.html:
"use one central token server"), so the token has one owner: Redis holds it with its expiry and a
Redis lock makes one process fetch at a time; an asyncio lock keeps one process's coroutines from
queueing on Redis. Without Redis the token lives in this process only.

`cgi-bin/stable_token` is used (https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken):
it is isolated from `cgi-bin/token`, so a colleague's tool calling `cgi-bin/token` cannot revoke ours,
and in normal mode repeated calls return the same token.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx
import structlog
from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError
from wechatpy.constants import WeChatErrorCode

from channels.base import (
    AuthExpiredError,
    ChannelError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from channels.http import TRANSPORT_ERRORS, transport_error
from channels.redaction import register_secret

log = structlog.get_logger(__name__)

PLATFORM = "wechat"
TOKEN_KEY = "syn:wechat:token:{app_id}"
TOKEN_LOCK_KEY = "syn:wechat:token:{app_id}:lock"
# stable_token doc: in normal mode the platform renews the token 5 minutes before it expires.
REFRESH_AHEAD_SECONDS = 300
LOCK_SECONDS = 15  # longer than one token request (client timeout) plus margin
AUTH_CODES = frozenset(
    {
        WeChatErrorCode.INVALID_CREDENTIAL,
        WeChatErrorCode.INVALID_ACCESS_TOKEN,
        WeChatErrorCode.EXPIRED_ACCESS_TOKEN,
    }
)
QUOTA_RESET_TZ = ZoneInfo("Asia/Shanghai")  # 45009 is a daily quota, reset at midnight Beijing time
_PERMANENT_MEANINGS = {
    48001: "the WeChat account lacks permission for this API (unverified accounts cannot call it)",
    88000: "the WeChat account has no comment (留言) permission",
    53503: "the draft did not pass WeChat's publish check",
    53504: "the draft must be published from the WeChat admin site",
    53505: "the draft must be saved manually in the WeChat admin site before publishing",
}


# syndicator.metrics.EVENTS_KEY (channels/ does not import syndicator/): token fetches are counted there.
METRICS_KEY = "syn:metrics"


class Cache(Protocol):
    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl: float) -> None: ...
    async def hgetall(self, key: str) -> dict[str, str]: ...
    async def hset(self, key: str, field: str, value: str, ttl: float | None = None) -> None: ...
    async def hdel(self, key: str, field: str) -> None: ...
    async def count(self, key: str, field: str) -> None: ...
    def lock(self, key: str) -> AbstractAsyncContextManager[object]: ...


class RedisCache:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self, key: str) -> str | None:
        return _text(await self._redis.get(key))

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self._redis.set(key, value, px=max(int(ttl * 1000), 1))

    async def hgetall(self, key: str) -> dict[str, str]:
        raw = await self._redis.hgetall(key)  # type: ignore[misc]  # redis-py types async commands as `Awaitable[T] | T`
        return {str(_text(k)): str(_text(v)) for k, v in raw.items()}

    async def hset(self, key: str, field: str, value: str, ttl: float | None = None) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, field, value)
            if ttl is not None:
                pipe.expire(key, int(ttl))
            await pipe.execute()

    async def hdel(self, key: str, field: str) -> None:
        await self._redis.hdel(key, field)  # type: ignore[misc]  # redis-py types async commands as `Awaitable[T] | T`

    async def count(self, key: str, field: str) -> None:
        await self._redis.hincrby(key, field, 1)  # type: ignore[misc]  # redis-py types async commands as `Awaitable[T] | T`

    def lock(self, key: str) -> AbstractAsyncContextManager[object]:
        return self._redis.lock(key, timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS)


class MemoryCache:
    """The Redis subset above, in process memory: for single-process use without Redis."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._values: dict[str, tuple[str, float]] = {}
        self._hashes: dict[str, dict[str, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._clock = clock

    async def get(self, key: str) -> str | None:
        value, expires_at = self._values.get(key, (None, 0.0))
        return value if expires_at > self._clock() else None

    async def set(self, key: str, value: str, ttl: float) -> None:
        self._values[key] = (value, self._clock() + ttl)

    async def hgetall(self, key: str) -> dict[str, str]:
        return dict(self._hashes.get(key, {}))

    async def hset(self, key: str, field: str, value: str, ttl: float | None = None) -> None:
        self._hashes.setdefault(key, {})[field] = value  # one process's lifetime is shorter than any ttl

    async def hdel(self, key: str, field: str) -> None:
        self._hashes.get(key, {}).pop(field, None)

    async def count(self, key: str, field: str) -> None:
        hashed = self._hashes.setdefault(key, {})
        hashed[field] = str(int(hashed.get(field, "0")) + 1)

    def lock(self, key: str) -> AbstractAsyncContextManager[object]:
        return self._locks.setdefault(key, asyncio.Lock())


class TokenManager:
    def __init__(
        self, *, app_id: str, secret: str, base_url: str, http: httpx.AsyncClient, cache: Cache
    ) -> None:
        self._app_id = app_id
        self._secret = secret
        self._url = f"{base_url.rstrip('/')}/cgi-bin/stable_token"
        self._http = http
        self._cache = cache
        self._key = TOKEN_KEY.format(app_id=app_id)
        self._lock_key = TOKEN_LOCK_KEY.format(app_id=app_id)
        self._local_lock = asyncio.Lock()

    async def token(self) -> str:
        cached = await self._cache.get(self._key)
        register_secret(cached)  # another process may have fetched it: this one must redact it too
        return cached or await self._refresh(rejected=None, force=False)

    async def replace(self, rejected: str) -> str:
        """WeChat refused `rejected`: fetch a newer token unless a concurrent caller already did."""
        return await self._refresh(rejected=rejected, force=False)

    async def check(self) -> None:
        """Ask WeChat for a token (normal mode: the current one stays valid); raises when refused."""
        await self._fetch(force=False)

    async def force_refresh(self) -> str:
        """Invalidate the current token (stable_token force mode: at most 20 a day, 30 s apart)."""
        return await self._refresh(rejected=None, force=True)

    async def _refresh(self, *, rejected: str | None, force: bool) -> str:
        async with self._local_lock, self._shared_lock():
            current = await self._cache.get(self._key)
            if current and current != rejected and not force:
                return current
            token, expires_in = await self._fetch(force=force)
            if token == rejected:  # normal mode handed back the refused token: only force mode replaces it
                token, expires_in = await self._fetch(force=True)
            await self._cache.set(self._key, token, ttl=max(expires_in - REFRESH_AHEAD_SECONDS, 1))
            return token

    def _shared_lock(self) -> AbstractAsyncContextManager[None]:
        return held(self._cache.lock(self._lock_key))

    async def _fetch(self, *, force: bool) -> tuple[str, int]:
        body = {"grant_type": "client_credential", "appid": self._app_id, "secret": self._secret}
        try:
            response = await self._http.post(self._url, json={**body, "force_refresh": force})
        except TRANSPORT_ERRORS as exc:  # fetching a token has no side effect worth reading back
            raise transport_error(exc, PLATFORM, what="stable_token", idempotent=True) from exc
        answer = _json_answer("stable_token", response)
        errcode = int(answer.get("errcode", 0))
        if errcode in AUTH_CODES or errcode == 40013:
            raise PermanentError(
                f"WeChat refused the app id / secret: {answer.get('errmsg')}", code=errcode, platform=PLATFORM
            )
        if errcode:
            raise classify_errcode("stable_token", errcode, str(answer.get("errmsg", "")))
        log.info("wechat_token_fetched", app_id=self._app_id, forced=force)
        register_secret(str(answer["access_token"]))
        try:
            await self._cache.count(METRICS_KEY, "token|wechat")
        except (RedisError, OSError):  # a metric never fails a token fetch
            pass
        return str(answer["access_token"]), int(answer.get("expires_in", 7200))


@asynccontextmanager
async def held(lock: AbstractAsyncContextManager[object], *, platform: str = PLATFORM) -> AsyncIterator[None]:
    """A token owner's cross-process lock. One we could not get in time is a busy dependency (the
    caller retries later); one that expired under us is harmless (the next owner finds the fresh
    token). Shared by every platform whose access token has one owner (WeChat, WeCom)."""
    try:
        await lock.__aenter__()
    except LockError as exc:
        raise TransientError("token lock busy", platform=platform) from exc
    try:
        yield
    finally:
        try:
            await lock.__aexit__(None, None, None)
        except LockError:
            log.warning("token_lock_expired", platform=platform)


class WeChatApi:
    """POSTs to api.weixin.qq.com-style endpoints with `?access_token=`, mapping answers to typed errors."""

    def __init__(self, *, base_url: str, http: httpx.AsyncClient, tokens: TokenManager) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._tokens = tokens

    async def call(
        self,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        params: dict[str, str] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """One call; on an expired/invalid token, refresh once and repeat (nothing was done)."""
        token = await self._tokens.token()
        try:
            return await self._once(path, token, body, files, params, idempotent)
        except AuthExpiredError:
            log.info("wechat_token_rejected", path=path)
            token = await self._tokens.replace(token)
            return await self._once(path, token, body, files, params, idempotent)

    async def _once(
        self,
        path: str,
        token: str,
        body: dict[str, Any] | None,
        files: dict[str, tuple[str, bytes, str]] | None,
        params: dict[str, str] | None,
        idempotent: bool,
    ) -> dict[str, Any]:
        # WeChat wants raw UTF-8, not \\uXXXX escapes (draft/add: "不要传 unicode 编码").
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {} if body is None else {"content-type": "application/json"}
        try:
            response = await self._http.post(
                f"{self._base}/cgi-bin/{path}",
                params={**(params or {}), "access_token": token},
                content=content,
                files=files,
                headers=headers,
            )
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, PLATFORM, what=path, idempotent=idempotent) from exc
        answer = _json_answer(path, response)
        errcode = int(answer.get("errcode", 0))
        if errcode:
            raise classify_errcode(path, errcode, str(answer.get("errmsg", "")))
        return answer


def _json_answer(path: str, response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 500:
        raise TransientError(
            f"{path}: HTTP {response.status_code}", code=response.status_code, platform=PLATFORM
        )
    if response.status_code != 200:
        raise PermanentError(
            f"{path}: HTTP {response.status_code}", code=response.status_code, platform=PLATFORM
        )
    try:
        answer = response.json()
    except ValueError as exc:
        raise TransientError(f"{path}: answer is not JSON", platform=PLATFORM) from exc
    if not isinstance(answer, dict):
        raise TransientError(f"{path}: unexpected answer {answer!r:.200}", platform=PLATFORM)
    return answer


def classify_errcode(path: str, errcode: int, errmsg: str, now: datetime | None = None) -> ChannelError:
    """WeChat's global return codes (wechatpy.constants.WeChatErrorCode; platforms.md §1.2)."""
    if errcode == WeChatErrorCode.SYSTEM_BUSY:
        return TransientError(f"{path}: system busy ({errmsg})", code=errcode, platform=PLATFORM)
    if errcode in AUTH_CODES:
        return AuthExpiredError(f"{path}: access token refused ({errmsg})", code=errcode, platform=PLATFORM)
    if errcode == WeChatErrorCode.OUT_OF_API_FREQ_LIMIT:
        wait = seconds_until_quota_reset(now or datetime.now(QUOTA_RESET_TZ))
        return RateLimitedError(
            f"{path}: daily quota reached ({errmsg})",
            retry_after=wait,
            per_api=True,  # "reach max api daily quota limit": each API has its own daily quota
            code=errcode,
            platform=PLATFORM,
        )
    if errcode == WeChatErrorCode.API_MINUTE_QUOTA_REACH_LIMIT:
        return RateLimitedError(
            f"{path}: minute quota reached ({errmsg})", retry_after=60, code=errcode, platform=PLATFORM
        )
    meaning = _PERMANENT_MEANINGS.get(errcode)
    if meaning is None:
        log.warning("wechat_unknown_errcode", path=path, errcode=errcode, errmsg=errmsg)
        meaning = "WeChat refused the call"
    return PermanentError(f"{meaning} ({path}: {errcode} {errmsg})", code=errcode, platform=PLATFORM)


def seconds_until_quota_reset(now: datetime) -> float:
    local = now.astimezone(QUOTA_RESET_TZ)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - local).total_seconds()


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
