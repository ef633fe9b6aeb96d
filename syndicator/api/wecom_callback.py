"""The WeCom application's callback URL (接收消息服务器): URL verification, button presses, messages.

Configure it in the WeCom admin console as `https://<host>/api/v1/chat/wecom/callback` with the
Token and EncodingAESKey set in SYNDICATOR_WECOM_CALLBACK_TOKEN / SYNDICATOR_WECOM_ENCODING_AES_KEY.
WeCom retries a callback it got no answer to within 5 s, so each message or press is handled once
(by MsgId / ResponseCode, remembered in Redis for a while: syndicator/api/signed.py, WeComScheme).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import PlainTextResponse, Response

from channels.base import ChannelError
from channels.http import make_http_client
from channels.wecom.callback import Inbound, text_reply
from channels.wecom.client import Recipients
from syndicator.api.deps import ApiState, StateDep, problems
from syndicator.api.signed import WeComCallback, wecom_keys
from syndicator.wecom.client import WeComNotConfiguredError, build_client
from syndicator.wecom.handlers import Context, handle
from syndicator.workdays import WorkCalendar

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/v1/chat/wecom", tags=["chat"])

# 403: a signature or decryption that does not check out; 404: the WeCom front end is not configured.
CALLBACK_PROBLEMS = problems(403, 404)


@router.get("/callback", response_class=PlainTextResponse, responses=CALLBACK_PROBLEMS)
async def verify(signed: WeComCallback) -> str:
    """WeCom checks the URL when it is saved: answer the decrypted echostr."""
    return str(signed.message)


# The answer is an encrypted passive reply (XML), or empty: never JSON.
REPLY: dict[int | str, dict[str, Any]] = {
    200: {"description": "a passive reply, or empty", "content": {"application/xml": {}, "text/plain": {}}}
}


@router.post("/callback", response_class=Response, responses=REPLY | CALLBACK_PROBLEMS)
async def receive(
    request: Request, state: StateDep, background: BackgroundTasks, signed: WeComCallback
) -> Response:
    """Each message or press is handled once: WeCom's retry of one (signed.repeated) is answered
    empty, like a message that needs no reply."""
    inbound: Inbound = signed.message
    if signed.repeated:
        return Response(content="", media_type="text/plain")
    answer = await handle(
        inbound, Context(state.db, state.redis, _calendar(state.settings.holiday_schedule_file))
    )
    if answer.direct:
        background.add_task(send_direct, state, inbound.user, answer.direct)
    if answer.passive:
        nonce = request.query_params.get("nonce", "") or "syndicator"
        reply = text_reply(inbound.user, answer.passive, wecom_keys(state.settings), nonce=nonce)
        return Response(content=reply, media_type="application/xml")
    return Response(content="", media_type="text/plain")  # an empty answer: no reply, no retry


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
