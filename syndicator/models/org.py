"""Who publishes and who acts: units, their channel accounts, people and their API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, String, text
from sqlmodel import Field, SQLModel

from syndicator.models.common import UTCDateTime, utcnow


class UnitLevel(StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    DEPARTMENT = "department"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # still the unit's account, but nothing is sent or polled
    ARCHIVED = "archived"  # retired for good; kept for history (publications, audit)


# A unit has at most one live account per platform; archived ones do not count.
LIVE_ACCOUNT_STATUSES = (AccountStatus.ACTIVE, AccountStatus.DISABLED)


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    REVIEWER = "reviewer"
    OFFICER = "officer"


class Unit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    level: str = Field(sa_type=String(20))
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    # The unit's own published numbers (hotline, office phone), comma-separated digits: the
    # personal-data check lets these through (`units add/update --contact-phone`).
    contact_phones: str | None = Field(default=None, sa_type=String(1000))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def contact_phone_list(self) -> list[str]:
        return [p for p in (self.contact_phones or "").split(",") if p]


class ChannelAccount(SQLModel, table=True):
    __tablename__ = "channel_account"
    # One live account per platform per unit (怀化 怀政办函〔2020〕52号: 一个平台只开设一个账号).
    __table_args__ = (
        Index(
            "uq_channel_account_live_platform",
            "unit_id",
            "platform",
            unique=True,
            sqlite_where=text("status IN ('active', 'disabled')"),
            postgresql_where=text("status IN ('active', 'disabled')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    platform: str = Field(sa_type=String(20))
    name: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    status: str = Field(default=AccountStatus.ACTIVE, sa_type=String(20))
    api_base_url: str | None = Field(default=None, sa_type=String(500))
    app_id: str | None = Field(default=None, sa_type=String(100))
    # Name of the environment variable holding the secret: secrets are never stored here.
    secret_env: str | None = Field(default=None, sa_type=String(100))
    safe_domain: str | None = Field(default=None, sa_type=String(200))
    default_cover: str | None = Field(default=None, sa_type=String(500))
    needs_reauth: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(100), unique=True, nullable=False))
    roles: str = Field(default="", sa_type=String(200))  # comma-separated Role values
    # Telegram user ids need up to 52 bits.
    telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))
    # WeCom (企业微信) member UserID: 1-64 letters, digits, '-', '_', '.'.
    wecom_user: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    scope_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
