"""The one signed-request dependency: every request a caller signs instead of holding a token.

One FastAPI dependency, `signed_request(scheme)`, with a scheme per way of signing:
- `HmacScheme` (channels/signing.py): the portal webhook, the withdrawal and the app comments push;
- `WeChatScheme`: WeChat's server push and URL check (signature / msg_signature, via wechatpy);
- `WeComScheme`: the WeCom application's callback (msg_signature and AES, via wechatpy).

Order matters (issue 12, findings 1, 6 and 10): the body is already in memory (the request edge
read it, capped); the signature is checked before anything parses the body; a refusal is counted;
what the scheme keeps against replays is consumed in its own short transaction (or Redis key),
whatever the answer will be, so it can never be used again; only then does the route open its own
transaction. HMAC signatures are consumed in the database (an identical re-delivery is told the
same article, any other replay is a 401); a WeCom message or button press is handled once (WeCom
retries what it got no answer to within 5 s); a WeChat push is not consumed: it only asks for a
read of the outcome, so a replay costs at most one extra read.
"""

import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Protocol

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from redis.exceptions import RedisError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, check_timestamp, matches
from channels.wechat.callback import CallbackRejectedError as WeChatRejectedError
from channels.wechat.callback import read_publish_callback, verify_signature
from channels.wecom.callback import CallbackKeys, CardPress, Inbound, TextMessage, read_callback, verify_url
from channels.wecom.callback import CallbackRejectedError as WeComRejectedError
from syndicator.api.deps import ID_MAX, ApiState, StateDep, client_address
from syndicator.config import Settings
from syndicator.models import AccountStatus, ChannelAccount, WebhookDelivery, utcnow
from syndicator.refusals import count_refusal

REPLAY_DETAIL = "signature already used (replay); sign each delivery afresh"


@dataclass(frozen=True)
class Verified:
    """What a scheme established about a request before anything parsed its body."""

    key: str  # what is consumed against replays: the HMAC signature, a WeCom message id; "" none
    owners: tuple[Any, ...] = ()  # what every key that verified stands for (accounts may share one)
    message: Any = None  # what the scheme read: a WeChat event, a WeCom message, a decrypted echostr


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    signature: str
    owners: tuple[Any, ...]
    message: Any
    replay_of: WebhookDelivery | None  # the earlier request that used this HMAC signature, if any
    repeated: bool  # the key was consumed before (a replay, or a platform's retry)


class Scheme(Protocol):
    # Read-only members, so that frozen dataclasses (HmacScheme) match.
    @property
    def action(self) -> str:
        """The refusal counter (syndicator/refusals.py)."""
        ...

    @property
    def status(self) -> int:
        """The answer to a request that does not verify."""
        ...

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """What the scheme raises for such a request."""
        ...

    async def verify(self, request: Request, body: bytes, state: ApiState) -> Verified: ...

    async def consume(self, state: ApiState, verified: Verified) -> tuple[WebhookDelivery | None, bool]:
        """Use the request's key up: (the earlier delivery it matches, whether it was used before)."""
        ...


def signed_request(scheme: Scheme) -> Callable[..., Awaitable[SignedRequest]]:
    async def dependency(request: Request, state: StateDep) -> SignedRequest:
        body = await request.body()  # already read and capped by the request edge
        try:
            verified = await scheme.verify(request, body, state)
        except scheme.errors as exc:
            await _refuse(state, request, scheme.action, str(exc))
            raise HTTPException(scheme.status, detail=str(exc)) from exc
        replay_of, repeated = await scheme.consume(state, verified)
        return SignedRequest(body, verified.key, verified.owners, verified.message, replay_of, repeated)

    return dependency


# --- HMAC (channels/signing.py): the portal and the app backends -------------------------------


@dataclass(frozen=True)
class SigningKey:
    secret: str
    owner: Any = None  # what the key stands for (the app account for a comments push)


KeySource = Callable[[ApiState], Awaitable[Sequence[SigningKey]]]


async def portal_keys(state: ApiState) -> Sequence[SigningKey]:
    secret = state.settings.ingest_secret.get_secret_value()
    return [SigningKey(secret)] if secret else []


async def app_account_keys(state: ApiState) -> Sequence[SigningKey]:
    """Every active app account with a secret: the push is verified before its body is parsed,
    so the account named inside the body cannot be used to pick the key."""
    async with state.db.transaction() as session:
        accounts = (
            await session.exec(
                select(ChannelAccount).where(
                    ChannelAccount.platform == "app", ChannelAccount.status == AccountStatus.ACTIVE
                )
            )
        ).all()
    keys = [SigningKey(os.environ.get(a.secret_env or "", ""), a) for a in accounts]
    return [key for key in keys if key.secret]


@dataclass(frozen=True)
class HmacScheme:
    keys: KeySource
    action: str
    status: int = 401
    errors: tuple[type[Exception], ...] = (SignatureError,)

    async def verify(self, request: Request, body: bytes, state: ApiState) -> Verified:
        keys = await self.keys(state)
        if not keys:
            raise SignatureError("no shared secret is configured")
        signature = request.headers.get(SIGNATURE_HEADER)
        tolerance = state.settings.signature_tolerance_seconds
        timestamp = check_timestamp(request.headers.get(TIMESTAMP_HEADER), signature, tolerance)
        assert signature is not None
        owners = tuple(
            key.owner
            for key in keys
            if matches(key.secret, timestamp, signature, request.method, request.url.path, body)
        )
        if not owners:
            raise SignatureError("signature does not match the request")
        return Verified(signature.strip(), owners)

    async def consume(self, state: ApiState, verified: Verified) -> tuple[WebhookDelivery | None, bool]:
        earlier = await consume(state, verified.key)
        return earlier, earlier is not None


async def consume(state: ApiState, signature: str) -> WebhookDelivery | None:
    """Record the signature as used; the earlier record when it already was (a replay).

    Records older than twice the tolerance can no longer match a fresh timestamp: they are pruned
    here, so the table stays the size of a few minutes of traffic.
    """
    horizon = utcnow() - timedelta(seconds=2 * state.settings.signature_tolerance_seconds)
    try:
        async with state.db.transaction() as session:
            await session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.received_at) < horizon))
            session.add(WebhookDelivery(signature=signature))
        return None
    except IntegrityError:
        async with state.db.transaction() as session:
            return await session.get(WebhookDelivery, signature)


async def remember_article(session: AsyncSession, signature: str, article_id: int, version: int) -> None:
    """Inside the delivery's transaction: an identical re-delivery is then told the same article."""
    delivery = await session.get(WebhookDelivery, signature)
    if delivery is not None:
        delivery.article_id, delivery.version = article_id, version
        session.add(delivery)


async def _refuse(state: ApiState, request: Request, action: str, reason: str) -> None:
    await count_refusal(state.db, action=action, reason=reason, source=client_address(request))


async def refuse_replay(state: ApiState, request: Request, action: str) -> HTTPException:
    await _refuse(state, request, action, "replay")
    return HTTPException(401, detail=REPLAY_DETAIL)


def fresh(
    dependency: Callable[..., Awaitable[SignedRequest]], action: str
) -> Callable[..., Awaitable[SignedRequest]]:
    """The signed request, refused with 401 when its signature was used before."""

    async def only_fresh(
        request: Request, state: StateDep, signed: Annotated[SignedRequest, Depends(dependency)]
    ) -> SignedRequest:
        if signed.replay_of is not None:
            raise await refuse_replay(state, request, action)
        return signed

    return only_fresh


# --- WeChat's server push (服务器配置) ----------------------------------------------------------

_INT = TypeAdapter(int)


def path_id(request: Request, name: str) -> int:
    """A database id from the path, refused as FastAPI refuses a DbId (422 naming it): the scheme
    runs before FastAPI validates the route's own parameters."""
    raw = request.path_params.get(name)
    try:
        value = _INT.validate_python(raw, strict=False)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("path", name)} for e in exc.errors(include_url=False)]
        ) from exc
    if not 1 <= value <= ID_MAX:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("path", name), "msg": f"must be 1..{ID_MAX}", "input": raw}]
        )
    return value


@dataclass(frozen=True)
class WeChatScheme:
    """`GET` is the URL check (the message is `echostr`); `POST` is a PUBLISHJOBFINISH push (the
    message is the event), plain or encrypted (`encrypt_type=aes`)."""

    action: str = "wechat.callback_rejected"
    status: int = 403
    errors: tuple[type[Exception], ...] = (WeChatRejectedError,)

    async def verify(self, request: Request, body: bytes, state: ApiState) -> Verified:
        token, account = await wechat_account(state, path_id(request, "account_id"))
        query = request.query_params
        if request.method == "GET":
            verify_signature(token, query)
            return Verified("", (account,), query.get("echostr", ""))
        event = read_publish_callback(
            body,
            query,
            token=token,
            encoding_aes_key=state.settings.wechat_encoding_aes_key.get_secret_value() or None,
            app_id=account.app_id,
        )
        return Verified("", (account,), event)

    async def consume(self, state: ApiState, verified: Verified) -> tuple[WebhookDelivery | None, bool]:
        return None, False  # a push only asks for a read of the outcome


async def wechat_account(state: ApiState, account_id: int) -> tuple[str, ChannelAccount]:
    """The callback exists only for a WeChat account, and only once a token is configured."""
    token = state.settings.wechat_callback_token.get_secret_value()
    async with state.db.transaction() as session:
        account = await session.get(ChannelAccount, account_id)
    if account is None or account.platform != "wechat" or not token:
        raise HTTPException(404, detail=f"no WeChat callback for account {account_id}")
    return token, account


# --- The WeCom application's callback (接收消息服务器) ------------------------------------------

WECOM_SEEN_KEY = "syn:wecom:seen:{id}"
WECOM_SEEN_SECONDS = 600  # longer than WeCom's retries of one callback


def wecom_keys(settings: Settings) -> CallbackKeys:
    token = settings.wecom_callback_token.get_secret_value()
    aes_key = settings.wecom_encoding_aes_key.get_secret_value()
    if not settings.wecom_enabled or not token or not aes_key or not settings.wecom_corp_id:
        raise HTTPException(404, detail="the WeCom front end is not configured")
    return CallbackKeys(token, aes_key, settings.wecom_corp_id)


@dataclass(frozen=True)
class WeComScheme:
    """`GET` is the URL check (the message is the decrypted echostr); `POST` a message or a button
    press (the message is the decrypted `Inbound`), keyed by MsgId / ResponseCode."""

    action: str = "wecom.callback_rejected"
    status: int = 403
    errors: tuple[type[Exception], ...] = (WeComRejectedError,)

    async def verify(self, request: Request, body: bytes, state: ApiState) -> Verified:
        keys = wecom_keys(state.settings)
        if request.method == "GET":
            return Verified("", (), verify_url(request.query_params, keys))
        inbound = read_callback(body, request.query_params, keys)
        return Verified(wecom_marker(inbound), (), inbound)

    async def consume(self, state: ApiState, verified: Verified) -> tuple[WebhookDelivery | None, bool]:
        if not verified.key or state.redis is None:
            return None, False
        key = WECOM_SEEN_KEY.format(id=verified.key)
        try:
            first = await state.redis.set(key, "1", nx=True, ex=WECOM_SEEN_SECONDS)
        except (RedisError, OSError):
            return None, False  # without Redis a retried callback may act twice; the core decides once
        return None, not first


def wecom_marker(inbound: Inbound) -> str:
    if isinstance(inbound, CardPress):
        return (
            inbound.response_code or f"{inbound.user}:{inbound.task_id}:{inbound.key}:{inbound.create_time}"
        )
    if isinstance(inbound, TextMessage):
        return inbound.msg_id
    return ""


portal_request = signed_request(HmacScheme(portal_keys, "webhook.rejected"))
app_push_request = signed_request(HmacScheme(app_account_keys, "comments.push_rejected"))

PortalRequest = Annotated[SignedRequest, Depends(portal_request)]
FreshPortalRequest = Annotated[SignedRequest, Depends(fresh(portal_request, "webhook.rejected"))]
FreshAppPush = Annotated[SignedRequest, Depends(fresh(app_push_request, "comments.push_rejected"))]
WeChatCallback = Annotated[SignedRequest, Depends(signed_request(WeChatScheme()))]
WeComCallback = Annotated[SignedRequest, Depends(signed_request(WeComScheme()))]
