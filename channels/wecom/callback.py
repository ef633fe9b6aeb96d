"""The WeCom application's callback URL (接收消息服务器): verify, decrypt, parse, reply. Pure.

WeCom always encrypts (https://developer.work.weixin.qq.com/document/path/90968, 加解密方案):
- URL verification: `GET ?msg_signature=&timestamp=&nonce=&echostr=`; msg_signature is the sha1 of
  the sorted [token, timestamp, nonce, echostr]; answer the decrypted echostr as plain text within
  one second (https://developer.work.weixin.qq.com/document/path/90930).
- Messages and events: `POST` with the same query and the body
  `<xml><ToUserName/><Encrypt/><AgentID/></xml>`; the decrypted XML has FromUserName (the member's
  UserID), MsgType and the type's fields. Receiving text (https://developer.work.weixin.qq.com/document/path/90239):
  Content, MsgId. A template-card button press (https://developer.work.weixin.qq.com/document/path/90240,
  模板卡片事件推送): MsgType event, Event `template_card_event`, EventKey (the button's key), TaskId,
  CardType, ResponseCode (one update_template_card, within 72 hours).
- A passive reply (https://developer.work.weixin.qq.com/document/path/90241) is the encrypted XML
  `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`; an empty body means no reply.
wechatpy's WeCom crypto (wechatpy.enterprise.crypto.WeChatCrypto) does the AES and signatures.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

CARD_EVENT = "template_card_event"


class CallbackRejectedError(Exception):
    """Not authentic or not readable: answer 403/400 and ignore it."""


@dataclass(frozen=True)
class CallbackKeys:
    token: str
    encoding_aes_key: str
    corp_id: str

    def crypto(self) -> WeChatCrypto:
        try:
            return WeChatCrypto(self.token, self.encoding_aes_key, self.corp_id)
        except (AssertionError, ValueError) as exc:  # wechatpy asserts a 32-byte key
            raise CallbackRejectedError("EncodingAESKey is not a 43-character WeCom key") from exc


@dataclass(frozen=True)
class CardPress:
    user: str
    key: str
    task_id: str
    response_code: str | None
    create_time: int


@dataclass(frozen=True)
class TextMessage:
    user: str
    content: str
    msg_id: str


@dataclass(frozen=True)
class OtherMessage:
    user: str
    kind: str  # e.g. "event:enter_agent", "image"


Inbound = CardPress | TextMessage | OtherMessage


def verify_url(query: Mapping[str, str], keys: CallbackKeys) -> str:
    """The plaintext of `echostr` when the signature is ours."""
    try:
        return str(
            keys.crypto().check_signature(
                query.get("msg_signature", ""),
                query.get("timestamp", ""),
                query.get("nonce", ""),
                query.get("echostr", ""),
            )
        )
    except (InvalidSignatureException, InvalidCorpIdException) as exc:
        raise CallbackRejectedError(f"URL verification rejected: {type(exc).__name__}") from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise CallbackRejectedError("echostr malformed") from exc


def read_callback(body: bytes | str, query: Mapping[str, str], keys: CallbackKeys) -> Inbound:
    try:
        plain = keys.crypto().decrypt_message(
            body, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
        )
    except (InvalidSignatureException, InvalidCorpIdException) as exc:
        raise CallbackRejectedError(f"callback rejected: {type(exc).__name__}") from exc
    except Exception as exc:  # expat / base64 / padding errors: anything unreadable is a bad push
        raise CallbackRejectedError("callback body malformed") from exc
    return parse_message(plain)


def parse_message(plain: bytes | str) -> Inbound:
    try:
        xml: dict[str, Any] = xmltodict.parse(plain)["xml"]
    except Exception as exc:
        raise CallbackRejectedError("not WeCom message XML") from exc
    user = str(xml.get("FromUserName") or "")
    kind = str(xml.get("MsgType") or "")
    if not user or not kind:
        raise CallbackRejectedError("FromUserName or MsgType missing")
    if kind == "text":
        return TextMessage(user, str(xml.get("Content") or ""), str(xml.get("MsgId") or ""))
    if kind == "event" and xml.get("Event") == CARD_EVENT:
        return CardPress(
            user=user,
            key=str(xml.get("EventKey") or ""),
            task_id=str(xml.get("TaskId") or ""),
            response_code=str(xml["ResponseCode"]) if xml.get("ResponseCode") else None,
            create_time=int(xml.get("CreateTime") or 0),
        )
    return OtherMessage(user, f"event:{xml.get('Event')}" if kind == "event" else kind)


def text_reply(
    to_user: str, content: str, keys: CallbackKeys, *, nonce: str, timestamp: int | None = None
) -> str:
    """An encrypted passive text reply (Content: at most 2048 bytes, WeCom cuts the rest)."""
    created = timestamp or int(time.time())
    plain = (
        f"<xml><ToUserName><![CDATA[{_cdata(to_user)}]]></ToUserName>"
        f"<FromUserName><![CDATA[{_cdata(keys.corp_id)}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{_cdata(content)}]]></Content></xml>"
    )
    return str(keys.crypto().encrypt_message(plain, nonce, str(created)))


def _cdata(text: str) -> str:
    # "]]>" would end the CDATA section early; split it across two sections.
    return text.replace("]]>", "]]]]><![CDATA[>")


__all__ = [
    "CARD_EVENT",
    "CallbackKeys",
    "CallbackRejectedError",
    "CardPress",
    "Inbound",
    "OtherMessage",
    "TextMessage",
    "parse_message",
    "read_callback",
    "text_reply",
    "verify_url",
]
