"""Dashboard sign-in: server-side session records and the key that signs their cookies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from syndicator.models.common import UTCDateTime, utcnow


class DashboardSession(SQLModel, table=True):
    """One signed-in browser. The cookie carries a random id; only its hash is stored.

    A session is valid while not ended, not expired, its API token unrevoked and the user's
    roles and scope unchanged since sign-in (`access`).
    """

    __tablename__ = "dashboard_session"

    id: str = Field(sa_type=String(64), primary_key=True)  # SHA-256 of the cookie's session id
    user_id: int = Field(foreign_key="user.id", index=True)
    token_id: int = Field(foreign_key="api_token.id", index=True)
    access: str = Field(sa_type=String(300))  # "roles|scope_unit_id" at sign-in
    csrf: str = Field(sa_type=String(64))
    source: str | None = Field(default=None, sa_type=String(200))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AppSecret(SQLModel, table=True):
    """A key this installation generated for itself (when none is configured), kept across restarts."""

    __tablename__ = "app_secret"

    name: str = Field(sa_type=String(100), primary_key=True)
    value: str = Field(sa_type=String(200))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
