"""The WeCom application's callback URL (接收消息服务器): URL verification, button presses, messages.

Configure it in the WeCom admin console as `https://<host>/api/v1/chat/wecom/callback` with the
Token and EncodingAESKey set in SYNDICATOR_WECOM_CALLBACK_TOKEN / SYNDICATOR_WECOM_ENCODING_AES_KEY.
WeCom retries a callback it got no answer to within 5 s, so each message or press is handled once
(by MsgId / ResponseCode, remembered in Redis for a while).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import structlog
from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response
from redis.exceptions import RedisError

from channels.base import ChannelError
from channels.http import make_http_client
from channels.wecom.callback import (
    CallbackKeys,
    CallbackRejectedError,
    CardPress,
    Inbound,
    TextMessage,
    read_callback,
    text_reply,
    verify_url,
)
from channels.wecom.client import Recipients
from syndicator.api.deps import ApiState, StateDep, problems
from syndicator.config import Settings
from syndicator.wecom.client import WeComNotConfiguredError, build_client
from syndicator.wecom.handlers import Context, handle
from syndicator.workdays import WorkCalendar

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/v1/chat/wecom", tags=["chat"])
SEEN_KEY = "syn:wecom:seen:{id}"
SEEN_SECONDS = 600  # longer than WeCom's retries of one callback


def _keys(settings: Settings) -> CallbackKeys:
    token = settings.wecom_callback_token.get_secret_value()
    aes_key = settings.wecom_encoding_aes_key.get_secret_value()
    if not settings.wecom_enabled or not token or not aes_key or not settings.wecom_corp_id:
        raise HTTPException(404, detail="the WeCom front end is not configured")
    return CallbackKeys(token, aes_key, settings.wecom_corp_id)


# 403: a signature or decryption that does not check out; 404: the WeCom front end is not configured.
CALLBACK_PROBLEMS = problems(403, 404)


@router.get("/callback", response_class=PlainTextResponse, responses=CALLBACK_PROBLEMS)
async def verify(request: Request, state: StateDep) -> str:
    """WeCom checks the URL when it is saved: answer the decrypted echostr."""
    try:
        return verify_url(request.query_params, _keys(state.settings))
    except CallbackRejectedError as exc:
        raise HTTPException(403, detail=str(exc)) from exc


# The answer is an encrypted passive reply (XML), or empty: never JSON.
REPLY = {
    200: {"description": "a passive reply, or empty", "content": {"application/xml": {}, "text/plain": {}}}
}


@router.post("/callback", response_class=Response, responses=REPLY | CALLBACK_PROBLEMS)
async def receive(request: Request, state: StateDep, background: BackgroundTasks) -> Response:
    keys = _keys(state.settings)
    try:
        inbound = read_callback(await request.body(), request.query_params, keys)
    except CallbackRejectedError as exc:
        raise HTTPException(403, detail=str(exc)) from exc
    if not await _first_time(state, inbound):
        return Response(content="", media_type="text/plain")
    answer = await handle(
        inbound, Context(state.db, state.redis, _calendar(state.settings.holiday_schedule_file))
    )
    if answer.direct:
        background.add_task(send_direct, state, inbound.user, answer.direct)
    if answer.passive:
        nonce = request.query_params.get("nonce", "") or "syndicator"
        return Response(
            content=text_reply(inbound.user, answer.passive, keys, nonce=nonce), media_type="application/xml"
        )
    return Response(content="", media_type="text/plain")  # an empty answer: no reply, no retry


async def _first_time(state: ApiState, inbound: Inbound) -> bool:
    if isinstance(inbound, CardPress):
        marker = (
            inbound.response_code or f"{inbound.user}:{inbound.task_id}:{inbound.key}:{inbound.create_time}"
        )
    elif isinstance(inbound, TextMessage) and inbound.msg_id:
        marker = inbound.msg_id
    else:
        return True
    if state.redis is None:
        return True
    try:
        return bool(await state.redis.set(SEEN_KEY.format(id=marker), "1", nx=True, ex=SEEN_SECONDS))
    except (RedisError, OSError):
        return True  # without Redis a retried callback may act twice; the core still decides once


async def send_direct(state: ApiState, user: str, text: str) -> None:
    """Best effort, like Telegram's answer to a button press: the decision itself is already stored."""
    try:
        async with make_http_client(state.settings.channel_timeout_seconds) as http:
            await build_client(state.settings, http, state.redis).send_text(Recipients(users=(user,)), text)
    except (ChannelError, WeComNotConfiguredError) as exc:
        log.warning("wecom_direct_message_failed", wecom_user=user, error=str(exc))


@lru_cache(maxsize=4)
def _calendar(path: Path | None) -> WorkCalendar:
    return WorkCalendar.from_file(path)
