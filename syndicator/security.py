"""API tokens: issued once in clear, stored only as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import ApiToken, User

TOKEN_PREFIX = "syn_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def authenticate(session: AsyncSession, token: str) -> User | None:
    query = (
        select(User)
        .join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .where(ApiToken.token_hash == hash_token(token), col(ApiToken.revoked_at).is_(None), User.active)
    )
    return (await session.exec(query)).first()
