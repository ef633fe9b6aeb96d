"""PUBLISHJOBFINISH pushes: signature (plain mode) and AES (safe mode), then the event fields."""

from __future__ import annotations

import hashlib

import pytest
from wechatpy.crypto import WeChatCrypto

from channels.wechat.callback import CallbackRejectedError, parse_publish_event, read_publish_callback

TOKEN = "callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them
APP_ID = "wx0123456789abcdef"
# The success sample from the Callback_on_finish doc page (article_id wrapped inside CDATA there).
SUCCESS = """<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>
<FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName><CreateTime>1481013459</CreateTime>
<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[PUBLISHJOBFINISH]]></Event>
<PublishEventInfo><publish_id>2247503051</publish_id><publish_status>0</publish_status>
<article_id><![CDATA[b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvy
WP4Hq4]]></article_id><article_detail><count>1</count><item><idx>1</idx>
<article_url><![CDATA[https://mp.weixin.qq.com/s/abc]]></article_url></item></article_detail>
</PublishEventInfo></xml>"""
FAILURE = """<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[PUBLISHJOBFINISH]]></Event>
<PublishEventInfo><publish_id>2247503052</publish_id><publish_status>2</publish_status>
<fail_idx>1</fail_idx><fail_idx>2</fail_idx></PublishEventInfo></xml>"""


def signed_query(timestamp: str = "1700000000", nonce: str = "n0nce") -> dict[str, str]:
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def test_plain_push_with_a_valid_signature_is_read():
    event = read_publish_callback(SUCCESS, signed_query(), token=TOKEN)
    assert event.published
    assert (event.publish_id, event.article_id) == (
        "2247503051",
        "b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4",
    )
    assert event.article_urls == ("https://mp.weixin.qq.com/s/abc",)


def test_plain_push_with_a_bad_signature_is_rejected():
    query = {**signed_query(), "signature": "0" * 40}
    with pytest.raises(CallbackRejectedError, match="signature"):
        read_publish_callback(SUCCESS, query, token=TOKEN)


def encrypted(xml: str) -> tuple[str, dict[str, str]]:
    query = signed_query()
    body = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message(xml, query["nonce"], query["timestamp"])
    msg_signature = body.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    return body, {**query, "encrypt_type": "aes", "msg_signature": msg_signature}


def test_encrypted_push_is_decrypted_and_read():
    body, query = encrypted(FAILURE)
    event = read_publish_callback(body, query, token=TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID)
    assert (event.publish_status, event.fail_idx, event.article_id) == (2, (1, 2), None)
    assert not event.published


def test_encrypted_push_with_a_forged_message_signature_is_rejected():
    body, query = encrypted(SUCCESS)
    with pytest.raises(CallbackRejectedError):
        read_publish_callback(
            body, {**query, "msg_signature": "f" * 40}, token=TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID
        )


def test_encrypted_push_for_another_app_is_rejected():
    body, query = encrypted(SUCCESS)
    with pytest.raises(CallbackRejectedError):
        read_publish_callback(body, query, token=TOKEN, encoding_aes_key=AES_KEY, app_id="wxsomeoneelse")


def test_other_events_and_garbage_are_rejected():
    with pytest.raises(CallbackRejectedError, match="MASSSENDJOBFINISH"):
        parse_publish_event(SUCCESS.replace("PUBLISHJOBFINISH", "MASSSENDJOBFINISH"))
    with pytest.raises(CallbackRejectedError):
        parse_publish_event("not xml")
