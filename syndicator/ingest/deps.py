"""FastAPI dependencies: the unit of work per request, the signed-webhook check, and callers' roles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from arq import ArqRedis
from fastapi import Depends, HTTPException, Request
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import audit
from syndicator.articles import ArticleIn
from syndicator.checks.base import LinkStatus
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.linkcheck import LinkChecker
from syndicator.models import User, WebhookDelivery
from syndicator.review import ReviewPolicy, review_policy
from syndicator.security import authenticate
from syndicator.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify


@dataclass
class ApiState:
    settings: Settings
    db: Database
    redis: ArqRedis | None
    links: LinkChecker | None = None  # None: link checking is off

    @property
    def review(self) -> ReviewPolicy:
        return review_policy(self.settings)

    async def link_statuses(self, payload: ArticleIn) -> tuple[LinkStatus, ...]:
        """The article's link statuses, gathered before any transaction opens (issue 19 §2)."""
        if self.links is None:
            return ()
        return await self.links.for_article(payload.body_html, str(payload.url), payload.source_portal)


def get_state(request: Request) -> ApiState:
    return request.app.state.api  # type: ignore[no-any-return]


StateDep = Annotated[ApiState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.db.transaction() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _audit_refusal(state: ApiState, request: Request, action: str, reason: str) -> None:
    """Refusals are audited in their own transaction: the request's own one is rolled back."""
    async with state.db.transaction() as session:
        audit.record(
            session,
            actor="anonymous",
            action=action,
            object_type="request",
            object_id=f"{request.method} {request.url.path}",
            source=client_address(request),
            reason=reason,
        )


async def signed_body(request: Request, state: StateDep) -> bytes:
    """The raw body of a portal webhook, after the size limit and the HMAC signature check."""
    limit = state.settings.ingest_max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, detail=f"body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(413, detail=f"body larger than {limit} bytes")
    try:
        verify(
            state.settings.ingest_secret.get_secret_value(),
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            bytes(body),
            tolerance_seconds=state.settings.signature_tolerance_seconds,
        )
    except SignatureError as exc:
        await _audit_refusal(state, request, "webhook.rejected", str(exc))
        raise HTTPException(401, detail=str(exc)) from exc
    return bytes(body)


SignedBody = Annotated[bytes, Depends(signed_body)]


class ConcurrentDeliveryError(Exception):
    """Another delivery of the same article committed first; running this one again sees it."""


@asynccontextmanager
async def delivery_transaction(state: ApiState, request: Request) -> AsyncIterator[AsyncSession]:
    """The transaction of one signed delivery; the signature is stored with it, so a replay is refused."""
    signature = request.headers[SIGNATURE_HEADER].strip()
    try:
        async with state.db.transaction() as session:
            session.add(WebhookDelivery(signature=signature))
            await session.flush()
            yield session
    except IntegrityError as exc:
        async with state.db.transaction() as session:
            replayed = await session.get(WebhookDelivery, signature) is not None
        if replayed:
            raise HTTPException(
                401, detail="signature already used (replay); sign each delivery afresh"
            ) from exc
        raise ConcurrentDeliveryError(str(exc)) from exc


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, User]]:
    """A dependency that lets through callers holding an API token of a user with one of `roles`."""

    async def caller(request: Request, state: StateDep) -> User:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            await _audit_refusal(state, request, "api.unauthenticated", "no bearer token")
            raise HTTPException(
                401,
                detail="an API token is required: Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        async with state.db.transaction() as session:
            user = await authenticate(session, token.strip())
        if user is None:
            await _audit_refusal(state, request, "api.unauthenticated", "unknown or revoked token")
            raise HTTPException(
                401, detail="the API token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
            )
        if not user.role_set & set(roles):
            await _audit_refusal(state, request, "api.forbidden", f"user {user.name} lacks {roles}")
            raise HTTPException(403, detail=f"this needs one of the roles: {', '.join(roles)}")
        return user

    return caller
