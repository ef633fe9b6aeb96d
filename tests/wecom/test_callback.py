"""The callback URL accepts only WeCom's encrypted, signed pushes, and handles a retried push once."""

from __future__ import annotations

import secrets

import httpx
import xmltodict
from sqlmodel import select
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from channels.wecom.callback import CallbackKeys, CardPress, TextMessage, parse_message
from syndicator.db import Database
from syndicator.models import AuditEvent
from syndicator.wecom.cards import ButtonKey, CardAct
from tests.moderation.conftest import World
from tests.wecom.conftest import AES_KEY, AGENT_ID, CALLBACK_TOKEN, CORP_ID


def encrypted(plain: str, *, token: str = CALLBACK_TOKEN) -> tuple[dict[str, str], bytes]:
    """Query and body of a push, built the way WeCom builds them (加解密方案)."""
    sealed = xmltodict.parse(WeChatCrypto(CALLBACK_TOKEN, AES_KEY, CORP_ID).encrypt_message(plain, "n1"))[
        "xml"
    ]
    timestamp, nonce = "1764500000", secrets.token_hex(4)
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, sealed["Encrypt"])
    body = xmltodict.unparse(
        {"xml": {"ToUserName": CORP_ID, "Encrypt": sealed["Encrypt"], "AgentID": AGENT_ID}}
    )
    return {"msg_signature": signer.signature, "timestamp": timestamp, "nonce": nonce}, body.encode()


def text_from(user: str, content: str, msg_id: str) -> str:
    return (
        f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>{user}</FromUserName>"
        f"<CreateTime>1764500000</CreateTime><MsgType>text</MsgType><Content>{content}</Content>"
        f"<MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>"
    )


async def test_a_forged_push_is_refused_and_a_retried_one_answered_once(
    db: Database, wecom_world: World, callback_api: str
) -> None:
    url = f"{callback_api}/api/v1/chat/wecom/callback"
    query, body = encrypted(text_from("mallory", "队列", "7001"), token="not-the-token")
    assert httpx.post(url, params=query, content=body).status_code == 403

    query, body = encrypted(text_from("wang", "队列", "7002"))
    first = httpx.post(url, params=query, content=body)
    again = httpx.post(url, params=query, content=body)  # WeCom retries when it saw no answer in 5 s
    assert first.status_code == 200 and "<Encrypt>" in first.text
    reply = xmltodict.parse(first.text)["xml"]
    plain = WeChatCrypto(CALLBACK_TOKEN, AES_KEY, CORP_ID).decrypt_message(
        first.text, reply["MsgSignature"], str(reply["TimeStamp"]), reply["Nonce"]
    )
    assert "当前没有待审核的评论" in xmltodict.parse(plain)["xml"]["Content"]
    assert again.status_code == 200 and again.text == ""
    async with db.transaction() as session:
        assert (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "wecom.refused"))
        ).all() == []


def test_pushes_parse_into_presses_and_messages() -> None:
    key = ButtonKey(CardAct.APPROVE, 12, 2).pack()
    press = parse_message(
        f"<xml><FromUserName>wang</FromUserName><MsgType>event</MsgType><Event>template_card_event</Event>"
        f"<EventKey>{key}</EventKey><TaskId>syn-c12-r2-ab</TaskId><CardType>button_interaction</CardType>"
        f"<ResponseCode>rc1</ResponseCode><CreateTime>1</CreateTime></xml>"
    )
    assert press == CardPress("wang", key, "syn-c12-r2-ab", "rc1", 1)
    assert ButtonKey.unpack(press.key) == ButtonKey(CardAct.APPROVE, 12, 2)
    assert ButtonKey.unpack("cm:x:1:1") is None and ButtonKey.unpack("other") is None
    assert parse_message(text_from("li", "统计", "9")) == TextMessage("li", "统计", "9")
    assert CallbackKeys(CALLBACK_TOKEN, AES_KEY, CORP_ID).crypto() is not None
