"""A local WeCom (企业微信) API for one self-built application, and the member side of its callback.

API (the paths, parameters, JSON shapes and errcodes channels/wecom/client.py uses):
- `GET /cgi-bin/gettoken?corpid=&corpsecret=` — https://developer.work.weixin.qq.com/document/path/91039:
  `{"errcode":0,"errmsg":"ok","access_token":…,"expires_in":7200}`; a repeated call within the
  validity returns the same token; 40013 wrong corp id, 40001 wrong secret.
- `POST /cgi-bin/message/send?access_token=` — https://developer.work.weixin.qq.com/document/path/90236
  (template card fields: https://developer.work.weixin.qq.com/document/path/90372): touser / toparty /
  totag joined by '|'; answers `msgid`, `invaliduser`/`invalidparty`/`invalidtag` and, for the
  interactive card types, a `response_code`. 81013 when no recipient is valid.
- `POST /cgi-bin/message/update_template_card?access_token=` — https://developer.work.weixin.qq.com/document/path/94888:
  `response_code` from the send or a press callback, each usable once within 72 hours; `atall`
  or userids; a whole `template_card` or `button.replace_name`.
- Token errors (global return codes, https://developer.work.weixin.qq.com/document/path/90313):
  41001 missing, 40014 invalid, 42001 expired access_token.
UNVERIFIED (the docs name no code): a used, expired or unknown response_code and a repeated task_id
are answered 40058 不合法的参数, the generic invalid-parameter code.

The member side: `POST /_emulator/press` and `/_emulator/text` make a member press a card button or
write to the app; the emulator encrypts the callback exactly as WeCom does
(https://developer.work.weixin.qq.com/document/path/90968, with wechatpy's WeCom crypto) and POSTs it
to the configured callback URL; `/_emulator/verify_url` performs the GET URL verification.
`GET /_emulator/state` shows messages, cards (their current content) and token calls. The shared
fault routes (channels.faults) inject outages and errcode answers.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import xmltodict
from fastapi import FastAPI, Request
from pydantic import BaseModel
from wechatpy.enterprise.crypto import WeChatCrypto

from channels.faults import CONTROL_PREFIX, FaultInjectionMiddleware, FaultInjector, fault_control_router

TOKEN_TTL = 7200
RESPONSE_CODE_TTL = 72 * 3600  # "response_code的有效期是72小时"
INTERACTIVE_CARDS = {"button_interaction", "vote_interaction", "multiple_interaction"}
CARD_TYPES = {"text_notice", "news_notice", *INTERACTIVE_CARDS}
TASK_ID = re.compile(r"^[A-Za-z0-9_\-@]{1,128}$")  # "只能由数字、字母和“_-@”组成，最长128字节"
OK: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}


class WeComError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        self.errcode, self.errmsg = errcode, errmsg


@dataclass
class Card:
    task_id: str
    recipients: list[str]
    content: dict[str, Any]
    updates: list[dict[str, Any]] = field(default_factory=list)
    pressed: list[dict[str, str]] = field(default_factory=list)


@dataclass
class EmulatorState:
    corp_id: str
    secret: str
    agent_id: int
    token: str  # the callback Token
    aes_key: str  # the callback EncodingAESKey
    members: dict[str, dict[str, list[str]]]  # UserID -> {"parties": [...], "tags": [...]}
    clock: Callable[[], float] = time.time
    callback_url: str | None = None
    access_token: str | None = None
    token_expires_at: float = 0.0
    token_calls: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    cards: dict[str, Card] = field(default_factory=dict)
    codes: dict[str, tuple[str, float]] = field(default_factory=dict)  # unused code -> (task_id, issued)
    msgids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def check_token(self, token: str | None) -> None:
        if not token:
            raise WeComError(41001, "access_token missing")
        if token != self.access_token:
            raise WeComError(40014, "invalid access_token")
        if self.token_expires_at <= self.clock():
            raise WeComError(42001, "access_token expired")

    def issue_code(self, task_id: str) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = (task_id, self.clock())
        return code

    def spend_code(self, code: str) -> Card:
        task_id, issued = self.codes.pop(code, ("", 0.0))
        if not task_id or issued + RESPONSE_CODE_TTL <= self.clock():
            raise WeComError(40058, "invalid response_code")  # UNVERIFIED code, see module doc
        return self.cards[task_id]

    def expand(self, body: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
        """The members a message reaches, and the ids WeCom reports back as invalid."""
        users, parties, tags = (_ids(body.get(name)) for name in ("touser", "toparty", "totag"))
        if users == ["@all"]:
            return sorted(self.members), {}
        reached = [u for u in users if u in self.members]
        known_parties = {p for m in self.members.values() for p in m.get("parties", [])}
        known_tags = {t for m in self.members.values() for t in m.get("tags", [])}
        for user, info in self.members.items():
            if set(info.get("parties", [])) & set(parties) or set(info.get("tags", [])) & set(tags):
                reached.append(user)
        invalid = {
            "invaliduser": "|".join(u for u in users if u not in self.members),
            "invalidparty": "|".join(p for p in parties if p not in known_parties),
            "invalidtag": "|".join(t for t in tags if t not in known_tags),
        }
        return sorted(set(reached)), {k: v for k, v in invalid.items() if v}


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value or "").split("|") if part.strip()]


def _check_card(card: dict[str, Any]) -> None:
    card_type = card.get("card_type")
    if card_type not in CARD_TYPES:
        raise WeComError(40058, f"invalid card_type {card_type!r}")
    if card_type != "button_interaction":
        return
    if not (card.get("main_title") or {}).get("title") and not card.get("sub_title_text"):
        raise WeComError(40058, "main_title.title or sub_title_text required")
    buttons = card.get("button_list") or []
    if not 1 <= len(buttons) <= 6:  # "按钮列表，列表长度不超过6"
        raise WeComError(40058, "button_list must have 1 to 6 buttons")
    keys = [b.get("key") for b in buttons if int(b.get("type", 0)) == 0]
    if not all(keys) or len(set(keys)) != len(keys):  # key required for callback buttons, unique
        raise WeComError(40058, "button key missing or repeated")
    if len(card.get("horizontal_content_list") or []) > 6:
        raise WeComError(40058, "horizontal_content_list longer than 6")


class PressRequest(BaseModel):
    user: str
    task_id: str
    key: str


class TextRequest(BaseModel):
    user: str
    content: str


class ConfigRequest(BaseModel):
    callback_url: str


def create_app(
    *,
    corp_id: str,
    secret: str,
    agent_id: int,
    token: str,
    aes_key: str,
    members: dict[str, dict[str, list[str]]] | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    state = EmulatorState(corp_id, secret, agent_id, token, aes_key, dict(members or {}), clock)
    injector = FaultInjector()
    app = FastAPI(title="WeCom emulator")
    app.state.wecom = state
    app.add_middleware(FaultInjectionMiddleware, injector=injector)
    app.include_router(fault_control_router(injector))

    @app.exception_handler(WeComError)
    async def wecom_error(_: Request, exc: WeComError) -> Any:
        from fastapi.responses import JSONResponse

        return JSONResponse({"errcode": exc.errcode, "errmsg": exc.errmsg})  # errors are HTTP 200

    @app.get("/cgi-bin/gettoken")
    async def gettoken(corpid: str = "", corpsecret: str = "") -> dict[str, Any]:
        state.token_calls += 1
        if corpid != state.corp_id:
            raise WeComError(40013, "invalid corpid")
        if corpsecret != state.secret:
            raise WeComError(40001, "invalid secret")
        if state.access_token is None or state.token_expires_at <= state.clock():
            state.access_token = secrets.token_urlsafe(48)
            state.token_expires_at = state.clock() + TOKEN_TTL
        return {
            **OK,
            "access_token": state.access_token,
            "expires_in": int(state.token_expires_at - state.clock()),
        }

    @app.post("/cgi-bin/message/send")
    async def send(request: Request, access_token: str | None = None) -> dict[str, Any]:
        state.check_token(access_token)
        body = await request.json()
        if int(body.get("agentid") or 0) != state.agent_id:
            raise WeComError(40056, "invalid agentid")
        msgtype = body.get("msgtype")
        recipients, invalid = state.expand(body)
        if not recipients:
            raise WeComError(81013, "user & party & tag all invalid")
        msgid = f"msg{next(state.msgids)}"
        answer: dict[str, Any] = {**OK, **invalid, "msgid": msgid}
        if msgtype == "text":
            content = str((body.get("text") or {}).get("content") or "")
            if not content:
                raise WeComError(40058, "text.content required")
            state.messages.append({"msgid": msgid, "type": "text", "to": recipients, "text": content})
        elif msgtype == "template_card":
            card = body.get("template_card") or {}
            _check_card(card)
            task_id = str(card.get("task_id") or "")
            if card["card_type"] in INTERACTIVE_CARDS:
                if not TASK_ID.match(task_id) or task_id in state.cards:
                    raise WeComError(40058, "invalid or repeated task_id")  # UNVERIFIED code
                state.cards[task_id] = Card(task_id, recipients, card)
                answer["response_code"] = state.issue_code(task_id)
            state.messages.append(
                {"msgid": msgid, "type": "template_card", "to": recipients, "task_id": task_id}
            )
        else:
            raise WeComError(40008, f"invalid msgtype {msgtype!r}")
        return answer

    @app.post("/cgi-bin/message/update_template_card")
    async def update_template_card(request: Request, access_token: str | None = None) -> dict[str, Any]:
        state.check_token(access_token)
        body = await request.json()
        if int(body.get("agentid") or 0) != state.agent_id:
            raise WeComError(40056, "invalid agentid")
        card = state.spend_code(str(body.get("response_code") or ""))
        if "template_card" in body:
            _check_card(body["template_card"])
            card.content = body["template_card"]
        elif (body.get("button") or {}).get("replace_name"):
            card.content = {**card.content, "replace_text": body["button"]["replace_name"]}
        else:
            raise WeComError(40058, "template_card or button.replace_name required")
        card.updates.append({"atall": bool(body.get("atall")), "userids": body.get("userids") or []})
        return dict(OK)

    @app.post(f"{CONTROL_PREFIX}/config")
    async def configure(config: ConfigRequest) -> dict[str, str]:
        state.callback_url = config.callback_url
        return {"status": "ok"}

    @app.post(f"{CONTROL_PREFIX}/members")
    async def add_members(members: dict[str, dict[str, list[str]]]) -> dict[str, str]:
        state.members.update(members)
        return {"status": "ok"}

    @app.post(f"{CONTROL_PREFIX}/expire_token")
    async def expire_token() -> dict[str, str]:
        state.token_expires_at = state.clock()
        return {"status": "ok"}

    @app.get(f"{CONTROL_PREFIX}/state")
    async def show() -> dict[str, Any]:
        return {
            "token_calls": state.token_calls,
            "messages": state.messages,
            "cards": {
                task_id: {
                    "recipients": c.recipients,
                    "content": c.content,
                    "updates": c.updates,
                    "pressed": c.pressed,
                }
                for task_id, c in state.cards.items()
            },
        }

    @app.post(f"{CONTROL_PREFIX}/press")
    async def press(press: PressRequest) -> dict[str, Any]:
        card = state.cards.get(press.task_id)
        if card is None or press.user not in card.recipients:
            return {"status": 404, "error": "no such card for this member"}
        buttons = {b.get("key") for b in card.content.get("button_list") or []}
        if card.content.get("replace_text") or press.key not in buttons:
            return {"status": 409, "error": "button not on the card (greyed out or replaced)"}
        card.pressed.append({"user": press.user, "key": press.key})
        fields = {
            "Event": "template_card_event",
            "EventKey": press.key,
            "TaskId": press.task_id,
            "CardType": card.content.get("card_type", ""),
            "ResponseCode": state.issue_code(press.task_id),
        }
        return await _deliver(state, press.user, "event", fields)

    @app.post(f"{CONTROL_PREFIX}/text")
    async def text(message: TextRequest) -> dict[str, Any]:
        fields = {"Content": message.content, "MsgId": str(next(state.msgids))}
        return await _deliver(state, message.user, "text", fields)

    @app.post(f"{CONTROL_PREFIX}/verify_url")
    async def verify_url() -> dict[str, Any]:
        """What WeCom does when an admin saves the callback URL: GET with an encrypted echostr."""
        from wechatpy.enterprise.crypto import PrpCrypto

        plain = secrets.token_hex(8)
        crypto = _crypto(state)
        echostr = PrpCrypto(crypto.key).encrypt(plain, state.corp_id).decode()
        query = _signed_query(state, echostr)
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(_require_url(state), params={**query, "echostr": echostr})
        return {"status": response.status_code, "ok": response.text == plain}

    return app


def _crypto(state: EmulatorState) -> WeChatCrypto:
    return WeChatCrypto(state.token, state.aes_key, state.corp_id)


def _signed_query(state: EmulatorState, encrypted: str) -> dict[str, str]:
    from wechatpy.utils import WeChatSigner

    timestamp, nonce = str(int(state.clock())), secrets.token_hex(5)
    signer = WeChatSigner()
    signer.add_data(state.token, timestamp, nonce, encrypted)
    return {"msg_signature": signer.signature, "timestamp": timestamp, "nonce": nonce}


def _require_url(state: EmulatorState) -> str:
    if not state.callback_url:
        raise WeComError(40057, "no callback url configured (POST /_emulator/config)")
    return state.callback_url


async def _deliver(state: EmulatorState, user: str, msgtype: str, fields: dict[str, str]) -> dict[str, Any]:
    """Encrypt a member's message or event and POST it to the callback URL as WeCom does."""
    created = str(int(state.clock()))
    plain = {
        "xml": {
            "ToUserName": state.corp_id,
            "FromUserName": user,
            "CreateTime": created,
            "MsgType": msgtype,
            **fields,
            "AgentID": str(state.agent_id),
        }
    }
    encrypted = xmltodict.parse(
        _crypto(state).encrypt_message(xmltodict.unparse(plain), secrets.token_hex(5))
    )["xml"]
    envelope = xmltodict.unparse(
        {
            "xml": {
                "ToUserName": state.corp_id,
                "Encrypt": encrypted["Encrypt"],
                "AgentID": str(state.agent_id),
            }
        }
    )
    query = _signed_query(state, encrypted["Encrypt"])
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(_require_url(state), params=query, content=envelope.encode())
    reply = None
    if response.status_code == 200 and response.text.strip():
        answer = xmltodict.parse(response.text)["xml"]
        decrypted = _crypto(state).decrypt_message(
            response.text, answer["MsgSignature"], str(answer["TimeStamp"]), answer["Nonce"]
        )
        reply = xmltodict.parse(decrypted)["xml"]
    return {"status": response.status_code, "reply": reply}
