"""Outbound calls of a WeCom (企业微信) self-built application: its access token and the messages.

- Token: `GET cgi-bin/gettoken?corpid=&corpsecret=` (https://developer.work.weixin.qq.com/document/path/91039).
  Each app has its own secret and token; "有效期内重复获取返回相同结果" and frequent calls are
  throttled, so the token has one owner: Redis holds it with its expiry and a Redis lock lets one
  process fetch at a time (the pattern of channels/wechat/token.py, whose caches are reused).
- `POST cgi-bin/message/send` (https://developer.work.weixin.qq.com/document/path/90236): text and
  `template_card`; answers `msgid`, `invaliduser`/`invalidparty`/`invalidtag` and, for a
  `button_interaction` card, a `response_code`.
- `POST cgi-bin/message/update_template_card` (https://developer.work.weixin.qq.com/document/path/94888):
  consumes one response code (from the send or from a button-press callback, each usable once,
  within 72 hours) and replaces the card for its recipients (`atall: 1`).
- Return codes (https://developer.work.weixin.qq.com/document/path/90313): -1 busy (retry);
  40014 invalid / 42001 expired / 41001 missing access_token (refresh once and repeat);
  45009 call frequency and 45033 concurrency limits (defer); the rest permanent.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from channels.base import AuthExpiredError, ChannelError, PermanentError, RateLimitedError, TransientError
from channels.http import transport_error
from channels.wechat.token import Cache, held

log = structlog.get_logger(__name__)

PLATFORM = "wecom"
TOKEN_KEY = "syn:wecom:token:{corp_id}:{agent_id}"
TOKEN_LOCK_KEY = "syn:wecom:token:{corp_id}:{agent_id}:lock"
REFRESH_AHEAD_SECONDS = 300  # fetch a new token five minutes before WeCom's expires_in runs out
BUSY = -1
AUTH_CODES = frozenset({40014, 42001, 41001})  # invalid, expired, missing access_token
FREQUENCY_LIMIT, CONCURRENCY_LIMIT = 45009, 45033
FREQUENCY_DEFER_SECONDS = 60.0  # 45009 windows are per minute and longer; try again in a minute
CONCURRENCY_DEFER_SECONDS = 5.0  # 45033: too many calls at once; a short pause is enough
_PERMANENT_MEANINGS = {
    40001: "the app secret is wrong (SYNDICATOR_WECOM_SECRET_ENV names the variable holding it)",
    40013: "the corp id is wrong (SYNDICATOR_WECOM_CORP_ID)",
    40056: "the agent id is wrong (SYNDICATOR_WECOM_AGENT_ID)",
    40091: "the secret belongs to another corp or app",
    60020: "this server's IP is not among the app's trusted IPs (企业可信IP)",
    81013: "none of the recipients is a valid member, department or tag of the app's visible range",
}


@dataclass(frozen=True)
class Recipients:
    users: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def as_send_fields(self) -> dict[str, str]:
        # message/send takes '|'-joined ids ("touser": "UserID1|UserID2").
        fields = {
            "touser": "|".join(self.users),
            "toparty": "|".join(self.parties),
            "totag": "|".join(self.tags),
        }
        return {name: value for name, value in fields.items() if value}


@dataclass(frozen=True)
class Sent:
    msgid: str
    response_code: str | None
    invalid: dict[str, str]  # invaliduser / invalidparty / invalidtag WeCom reported, if any


class WeComTokens:
    """The one access token of (corp id, agent id)."""

    def __init__(
        self,
        *,
        corp_id: str,
        agent_id: int,
        secret: str,
        base_url: str,
        http: httpx.AsyncClient,
        cache: Cache,
    ) -> None:
        self._corp_id = corp_id
        self._secret = secret
        self._url = f"{base_url.rstrip('/')}/cgi-bin/gettoken"
        self._http = http
        self._cache = cache
        self._key = TOKEN_KEY.format(corp_id=corp_id, agent_id=agent_id)
        self._lock_key = TOKEN_LOCK_KEY.format(corp_id=corp_id, agent_id=agent_id)
        self._local_lock = asyncio.Lock()

    async def token(self) -> str:
        return await self._cache.get(self._key) or await self.replace(rejected=None)

    async def replace(self, rejected: str | None) -> str:
        """Fetch a token unless another caller already replaced the `rejected` one."""
        async with self._local_lock, held(self._cache.lock(self._lock_key), platform=PLATFORM):
            current = await self._cache.get(self._key)
            if current and current != rejected:
                return current
            token, expires_in = await self._fetch()
            await self._cache.set(self._key, token, ttl=max(expires_in - REFRESH_AHEAD_SECONDS, 1))
            return token

    async def _fetch(self) -> tuple[str, int]:
        try:
            response = await self._http.get(
                self._url, params={"corpid": self._corp_id, "corpsecret": self._secret}
            )
        except httpx.HTTPError as exc:  # fetching a token has no side effect
            raise TransientError(f"gettoken: {type(exc).__name__}", platform=PLATFORM) from exc
        answer = _json_answer("gettoken", response)
        errcode = int(answer.get("errcode", 0))
        if errcode:
            raise classify_errcode("gettoken", errcode, str(answer.get("errmsg", "")))
        log.info("wecom_token_fetched", corp_id=self._corp_id)
        return str(answer["access_token"]), int(answer.get("expires_in", 7200))


class WeComClient:
    def __init__(self, *, base_url: str, agent_id: int, http: httpx.AsyncClient, tokens: WeComTokens) -> None:
        self._base = base_url.rstrip("/")
        self.agent_id = agent_id
        self._http = http
        self._tokens = tokens

    async def send_text(self, to: Recipients, text: str) -> Sent:
        # Text content is capped at 2048 bytes by WeCom ("超过将截断"); cut on a character boundary.
        return await self._send(to, {"msgtype": "text", "text": {"content": _cut_bytes(text, 2048)}})

    async def send_card(self, to: Recipients, card: dict[str, Any]) -> Sent:
        return await self._send(to, {"msgtype": "template_card", "template_card": card})

    async def update_card(self, response_code: str, card: dict[str, Any]) -> None:
        """Replace the whole card for everyone it was sent to (atall)."""
        body = {"atall": 1, "agentid": self.agent_id, "response_code": response_code, "template_card": card}
        await self.call("message/update_template_card", body)

    async def _send(self, to: Recipients, message: dict[str, Any]) -> Sent:
        answer = await self.call("message/send", {**to.as_send_fields(), "agentid": self.agent_id, **message})
        invalid = {k: str(answer[k]) for k in ("invaliduser", "invalidparty", "invalidtag") if answer.get(k)}
        if invalid:
            log.warning("wecom_invalid_recipients", **invalid)
        return Sent(str(answer.get("msgid", "")), answer.get("response_code") or None, invalid)

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST one API call; an expired or invalid token is replaced once and the call repeated."""
        token = await self._tokens.token()
        try:
            return await self._once(path, token, body)
        except AuthExpiredError:
            log.info("wecom_token_rejected", path=path)
            return await self._once(path, await self._tokens.replace(rejected=token), body)

    async def _once(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._http.post(
                f"{self._base}/cgi-bin/{path}",
                params={"access_token": token},
                content=json.dumps(body, ensure_ascii=False).encode(),
                headers={"content-type": "application/json"},
            )
        except httpx.HTTPError as exc:
            # Chat messages are delivered at least once (as to Telegram): a repeat is acceptable.
            raise transport_error(exc, PLATFORM, what=path, idempotent=True) from exc
        answer = _json_answer(path, response)
        errcode = int(answer.get("errcode", 0))
        if errcode:
            raise classify_errcode(path, errcode, str(answer.get("errmsg", "")))
        return answer


def classify_errcode(path: str, errcode: int, errmsg: str) -> ChannelError:
    if errcode == BUSY:
        return TransientError(f"{path}: system busy ({errmsg})", code=errcode, platform=PLATFORM)
    if errcode in AUTH_CODES:
        return AuthExpiredError(f"{path}: access token refused ({errmsg})", code=errcode, platform=PLATFORM)
    if errcode == FREQUENCY_LIMIT:
        return RateLimitedError(
            f"{path}: call frequency limit ({errmsg})",
            retry_after=FREQUENCY_DEFER_SECONDS,
            code=errcode,
            platform=PLATFORM,
        )
    if errcode == CONCURRENCY_LIMIT:
        return RateLimitedError(
            f"{path}: concurrency limit ({errmsg})",
            retry_after=CONCURRENCY_DEFER_SECONDS,
            code=errcode,
            platform=PLATFORM,
        )
    meaning = _PERMANENT_MEANINGS.get(errcode, "WeCom refused the call")
    return PermanentError(f"{meaning} ({path}: {errcode} {errmsg})", code=errcode, platform=PLATFORM)


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
        raise TransientError(f"{path}: unexpected answer", platform=PLATFORM)
    return answer


def _cut_bytes(text: str, limit: int) -> str:
    encoded = text.encode()
    return text if len(encoded) <= limit else encoded[: limit - 3].decode(errors="ignore") + "…"
