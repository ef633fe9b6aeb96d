"""Verify and read WeChat's PUBLISHJOBFINISH event push (pure functions; the route lives elsewhere).

WeChat POSTs the event to the developer URL with `signature`, `timestamp`, `nonce` in the query:
signature = sha1 of the sorted [token, timestamp, nonce] (wechatpy.utils.check_signature). In
safe (encrypted) mode the query also carries `encrypt_type=aes` and `msg_signature`, and the body is
`<xml><Encrypt>…</Encrypt></xml>`, decrypted with the EncodingAESKey (wechatpy.crypto.WeChatCrypto).
Event shape: https://developers.weixin.qq.com/doc/offiaccount/Publish/Callback_on_finish.html
(Event is PUBLISHJOBFINISH; publish_status as in freepublish/get; fail_idx repeated on failure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

EVENT = "PUBLISHJOBFINISH"


class CallbackRejectedError(Exception):
    """The push is not authentic or not a publish-job event: answer 403/400 and ignore it."""


@dataclass(frozen=True)
class PublishJobFinished:
    publish_id: str
    publish_status: int  # 0 published, 2/3/4 failed, 5/6 removed after publishing
    article_id: str | None
    article_urls: tuple[str, ...]
    fail_idx: tuple[int, ...]

    @property
    def published(self) -> bool:
        return self.publish_status == 0


def read_publish_callback(
    body: bytes | str,
    query: Mapping[str, str],
    *,
    token: str,
    encoding_aes_key: str | None = None,
    app_id: str | None = None,
) -> PublishJobFinished:
    """Authenticate a push (plain or encrypted mode, chosen by `encrypt_type`) and parse it."""
    verify_signature(token, query)
    if query.get("encrypt_type", "raw") == "aes":
        if not encoding_aes_key or not app_id:
            raise CallbackRejectedError("encrypted push but no EncodingAESKey / app id configured")
        body = decrypt(body, query, token=token, encoding_aes_key=encoding_aes_key, app_id=app_id)
    return parse_publish_event(body)


def verify_signature(token: str, query: Mapping[str, str]) -> None:
    if not token:
        # sha1 of ["", timestamp, nonce] is computable by anyone: an empty token verifies forgeries.
        raise CallbackRejectedError("no callback token is configured")
    try:
        check_signature(token, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
    except InvalidSignatureException as exc:
        raise CallbackRejectedError("bad signature") from exc


def decrypt(
    body: bytes | str, query: Mapping[str, str], *, token: str, encoding_aes_key: str, app_id: str
) -> str:
    crypto = WeChatCrypto(token, encoding_aes_key, app_id)
    try:
        return str(
            crypto.decrypt_message(
                body, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
            )
        )
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        raise CallbackRejectedError(f"encrypted push rejected: {type(exc).__name__}") from exc
    except (KeyError, ValueError) as exc:
        raise CallbackRejectedError("encrypted push malformed") from exc


def parse_publish_event(body: bytes | str) -> PublishJobFinished:
    try:
        xml: dict[str, Any] = xmltodict.parse(body, force_list=("item", "fail_idx"))["xml"]
    except Exception as exc:  # expat raises its own error type; any parse failure is a bad push
        raise CallbackRejectedError("body is not WeChat event XML") from exc
    if xml.get("MsgType") != "event" or xml.get("Event") != EVENT:
        raise CallbackRejectedError(f"not a {EVENT} event: {xml.get('Event')!r}")
    info = xml.get("PublishEventInfo") or {}
    items = (info.get("article_detail") or {}).get("item") or []
    try:
        return PublishJobFinished(
            publish_id=str(info["publish_id"]),
            publish_status=int(info["publish_status"]),
            article_id=_stripped(info.get("article_id")),
            article_urls=tuple(str(item["article_url"]) for item in items),
            fail_idx=tuple(int(index) for index in info.get("fail_idx") or []),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CallbackRejectedError("PublishEventInfo incomplete") from exc


def _stripped(value: Any) -> str | None:
    # The doc's sample wraps article_id across lines inside CDATA; ids contain no whitespace.
    return "".join(str(value).split()) if value else None
