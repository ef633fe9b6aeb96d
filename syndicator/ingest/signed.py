"""The one signed-request check: the portal webhook, withdrawals and the app comments push.

Order matters (issue 12, findings 1, 6 and 10): the body is already in memory (the request edge
read it, capped); the signature over "{timestamp}.{METHOD}.{path}.{raw body}" is checked before
anything parses the body; the verified signature is consumed in its own short transaction,
whatever the answer will be, so it can never be used again; only then does the route open its
own transaction.
"""

import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.ingest.deps import ApiState, StateDep, client_address
from syndicator.models import AccountStatus, ChannelAccount, WebhookDelivery, utcnow
from syndicator.refusals import count_refusal
from syndicator.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, check_timestamp, matches

REPLAY_DETAIL = "signature already used (replay); sign each delivery afresh"


@dataclass(frozen=True)
class SigningKey:
    secret: str
    owner: Any = None  # what the key stands for (the app account for a comments push)


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    signature: str
    owners: tuple[Any, ...]  # what every key that verified stands for (accounts may share a secret)
    replay_of: WebhookDelivery | None  # the earlier request that used this signature, if any


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


def signed_request(keys: KeySource, *, action: str) -> Callable[..., Awaitable[SignedRequest]]:
    async def dependency(request: Request, state: StateDep) -> SignedRequest:
        body = await request.body()  # already read and capped by the request edge
        try:
            signature, owners = _verify(
                request, body, await keys(state), state.settings.signature_tolerance_seconds
            )
        except SignatureError as exc:
            await _refuse(state, request, action, str(exc))
            raise HTTPException(401, detail=str(exc)) from exc
        replay_of = await consume(state, signature)
        return SignedRequest(body=body, signature=signature, owners=owners, replay_of=replay_of)

    return dependency


def _verify(
    request: Request, body: bytes, keys: Sequence[SigningKey], tolerance: int
) -> tuple[str, tuple[Any, ...]]:
    if not keys:
        raise SignatureError("no shared secret is configured")
    signature = request.headers.get(SIGNATURE_HEADER)
    timestamp = check_timestamp(request.headers.get(TIMESTAMP_HEADER), signature, tolerance)
    assert signature is not None
    owners = tuple(
        key.owner
        for key in keys
        if matches(key.secret, timestamp, signature, request.method, request.url.path, body)
    )
    if not owners:
        raise SignatureError("signature does not match the request")
    return signature.strip(), owners


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


portal_request = signed_request(portal_keys, action="webhook.rejected")
app_push_request = signed_request(app_account_keys, action="comments.push_rejected")

PortalRequest = Annotated[SignedRequest, Depends(portal_request)]
FreshPortalRequest = Annotated[SignedRequest, Depends(fresh(portal_request, "webhook.rejected"))]
FreshAppPush = Annotated[SignedRequest, Depends(fresh(app_push_request, "comments.push_rejected"))]
