"""Dashboard sessions: their own signing key, server-side records, and sign-in rate limits.

The cookie carries a random session id signed with the dashboard's own key (configured, or
generated once and kept in the database: never derived from another secret). The database keeps
only the id's hash; a session ends at sign-out, when the API token it was opened with is revoked,
when the user is deactivated, and when the user's roles or scope change.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import ApiToken, AppSecret, DashboardSession, User, utcnow
from syndicator.security import hash_token

SECRET_NAME = "dashboard_session"
LOGIN_KEY = "syndicator:dashboard:login-failures"


async def signing_key(settings: Settings, db: Database) -> bytes:
    """The configured dashboard secret, else the one this installation generated and stored."""
    own = settings.dashboard_session_secret.get_secret_value()
    if own:
        return own.encode()
    async with db.transaction() as session:
        stored = await session.get(AppSecret, SECRET_NAME)
    if stored is not None:
        return stored.value.encode()
    try:
        async with db.transaction() as session:
            session.add(AppSecret(name=SECRET_NAME, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process generated it first: use theirs
    async with db.transaction() as session:
        stored = await session.get(AppSecret, SECRET_NAME)
    assert stored is not None
    return stored.value.encode()


def access_of(user: User) -> str:
    """What a session was granted: roles and scope. Any change to either ends the session."""
    return f"{','.join(sorted(user.role_set))}|{user.scope_unit_id or ''}"


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


async def credentials(session: AsyncSession, token: str) -> tuple[User, ApiToken] | None:
    """The active user and unrevoked token a sign-in presents."""
    query = (
        select(User, ApiToken)
        .join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .where(ApiToken.token_hash == hash_token(token), col(ApiToken.revoked_at).is_(None), User.active)
    )
    row = (await session.exec(query)).first()
    return (row[0], row[1]) if row else None


async def start(
    session: AsyncSession, user: User, token: ApiToken, *, max_age: timedelta, source: str
) -> str:
    """Open a session; returns the id to put in the cookie (shown nowhere else).

    Sessions that expired a day or more ago are deleted on the way: the table stays small."""
    assert user.id is not None and token.id is not None
    await session.exec(
        delete(DashboardSession).where(col(DashboardSession.expires_at) < utcnow() - timedelta(days=1))
    )
    session_id = secrets.token_urlsafe(32)
    session.add(
        DashboardSession(
            id=_hash(session_id),
            user_id=user.id,
            token_id=token.id,
            access=access_of(user),
            csrf=secrets.token_urlsafe(24),
            source=source,
            expires_at=utcnow() + max_age,
        )
    )
    return session_id


@dataclass(frozen=True)
class Viewer:
    user: User
    csrf: str
    session_id: str  # the stored hash


async def resolve(session: AsyncSession, session_id: str) -> Viewer | None:
    query = (
        select(DashboardSession, User, ApiToken)
        .join(User, col(User.id) == col(DashboardSession.user_id))
        .join(ApiToken, col(ApiToken.id) == col(DashboardSession.token_id))
        .where(
            DashboardSession.id == _hash(session_id),
            col(DashboardSession.ended_at).is_(None),
            col(DashboardSession.expires_at) > utcnow(),
            col(ApiToken.revoked_at).is_(None),
            User.active,
        )
    )
    row = (await session.exec(query)).first()
    if row is None:
        return None
    record, user, _ = row
    if record.access != access_of(user):
        record.ended_at = utcnow()
        session.add(record)
        return None
    return Viewer(user=user, csrf=record.csrf, session_id=record.id)


async def end(session: AsyncSession, stored_id: str) -> None:
    record = await session.get(DashboardSession, stored_id)
    if record is not None and record.ended_at is None:
        record.ended_at = utcnow()
        session.add(record)


@dataclass(frozen=True)
class LoginLimits:
    per_user: int
    per_address: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            per_user=settings.dashboard_login_failures_per_user,
            per_address=settings.dashboard_login_failures_per_address,
            window=timedelta(seconds=settings.dashboard_login_window_seconds),
        )


class LoginThrottle:
    """Failed sign-ins counted in Redis per user name and per client address, in a fixed window."""

    def __init__(self, redis: Redis, limits: LoginLimits) -> None:
        self.redis = redis
        self.limits = limits

    def _keys(self, name: str, address: str) -> tuple[str, str]:
        user = hashlib.sha256(name.encode()).hexdigest()[:32]
        return f"{LOGIN_KEY}:user:{user}", f"{LOGIN_KEY}:addr:{address}"

    async def blocked(self, name: str, address: str) -> bool:
        user_key, addr_key = self._keys(name, address)
        user_count, addr_count = await self.redis.mget(user_key, addr_key)
        return int(user_count or 0) >= self.limits.per_user or int(addr_count or 0) >= self.limits.per_address

    async def failed(self, name: str, address: str) -> None:
        window = int(self.limits.window.total_seconds())
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in self._keys(name, address):
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
            await pipe.execute()

    async def succeeded(self, name: str) -> None:
        await self.redis.delete(self._keys(name, "")[0])
