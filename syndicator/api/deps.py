"""FastAPI dependencies: the unit of work per request and callers' roles (signed requests: signed.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from arq import ArqRedis
from fastapi import Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import audit
from syndicator.articles import ArticleIn
from syndicator.checks.base import LinkStatus
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.linkcheck import LinkChecker
from syndicator.models import User
from syndicator.refusals import count_refusal
from syndicator.review import ReviewPolicy, review_policy
from syndicator.security import authenticate


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
    return request.app.state.api


StateDep = Annotated[ApiState, Depends(get_state)]

# Primary keys are INTEGER columns (32 bits on PostgreSQL). Ids and page sizes are bounded where
# they enter, so the database never sees an integer it cannot store (issue 12, finding 10: 2**64
# in a path was a 500; 2**31 was one on PostgreSQL) and no page is unbounded.
ID_MAX = 2**31 - 1
DbId = Annotated[int, Path(ge=1, le=ID_MAX, description="a database id")]
ArticleId = DbId
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many rows")]


class Problem(BaseModel):
    """Every error answer: `detail` is a sentence, or a list naming the bad fields."""

    detail: str | list[dict[str, Any]]


_PROBLEMS = {
    400: "the request is malformed",
    401: "no valid signature or API token",
    403: "the caller lacks the role or the scope",
    404: "no such object (or not in the caller's scope)",
    408: "the body did not arrive in time",
    409: "conflicts with the object's state; retry or reconsider",
    413: "the body is larger than this route accepts",
    422: "a field is invalid (named in detail)",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error answers a route gives (schemathesis holds us to them).

    The schema is inline and always JSON: FastAPI would document a `model` in the route's own
    media type (text/plain for the WeChat callback), but errors are JSON everywhere."""
    content = {"application/json": {"schema": Problem.model_json_schema()}}
    return {code: {"description": _PROBLEMS[code], "content": content} for code in codes}


# Every route can be refused at the edge (syndicator/api/edge.py) before it runs, or by
# FastAPI itself when a body cannot be parsed at all (400).
EDGE_PROBLEMS = problems(400, 408, 413, 422)
TOKEN_PROBLEMS = problems(401, 403)


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.db.transaction() as session:
        yield session


# scope="function": the transaction ends when the route returns, before the answer is sent. With
# FastAPI's default ("request") it stayed open while a client that does not read held the answer
# (on SQLite: the write lock).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _audit_forbidden(state: ApiState, request: Request, user: User, reason: str) -> None:
    """A signed-in user refused is audited (it names a person); anonymous refusals are counted."""
    async with state.db.transaction() as session:
        audit.record(
            session,
            actor=f"user:{user.name}",
            action="api.forbidden",
            object_type="request",
            object_id=f"{request.method} {request.url.path}",
            source=client_address(request),
            reason=reason,
        )


async def _count_unauthenticated(state: ApiState, request: Request, reason: str) -> None:
    await count_refusal(state.db, action="api.unauthenticated", reason=reason, source=client_address(request))


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, User]]:
    """A dependency that lets through callers holding an API token of a user with one of `roles`."""

    async def caller(request: Request, state: StateDep) -> User:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            await _count_unauthenticated(state, request, "no bearer token")
            raise HTTPException(
                401,
                detail="an API token is required: Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        async with state.db.transaction() as session:
            user = await authenticate(session, token.strip())
        if user is None:
            await _count_unauthenticated(state, request, "unknown or revoked token")
            raise HTTPException(
                401, detail="the API token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
            )
        if not user.role_set & set(roles):
            await _audit_forbidden(state, request, user, f"user {user.name} lacks {roles}")
            raise HTTPException(403, detail=f"this needs one of the roles: {', '.join(roles)}")
        return user

    return caller
