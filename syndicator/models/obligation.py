"""Upstream important-policy items and the repost obligations they open (12-hour clock)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from syndicator.models.common import UTCDateTime, utcnow


class ObligationState(StrEnum):
    OPEN = "open"
    FULFILLED_ON_TIME = "fulfilled_on_time"
    FULFILLED_LATE = "fulfilled_late"
    OVERDUE = "overdue"
    WAIVED = "waived"


class UpstreamItem(SQLModel, table=True):
    __tablename__ = "upstream_item"
    __table_args__ = (UniqueConstraint("source", "guid", name="uq_upstream_item"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(sa_type=String(200))  # e.g. www.gov.cn
    guid: str = Field(sa_type=String(500))
    title: str = Field(sa_type=String(500))
    url: str = Field(sa_type=String(1000), index=True)
    doc_number: str | None = Field(default=None, sa_type=String(100), index=True)
    category: str | None = Field(default=None, sa_type=String(100))
    source_level: str = Field(default="national", sa_type=String(20))
    important: bool = False
    published_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Obligation(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("item_id", "account_id", name="uq_obligation_target"),
        # Covering on PostgreSQL: the per-unit report reads only this index (1M targets, < 1 s).
        Index(
            "ix_obligation_unit_report",
            "unit_id",
            "deadline_at",
            postgresql_include=["item_id", "account_id", "state", "fulfilled_at", "created_at", "updated_at"],
        ),
        # "Does this account owe anything?" on every publication.
        Index("ix_obligation_account_state", "account_id", "state"),
        Index("ix_obligation_state_deadline", "state", "deadline_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="upstream_item.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    account_id: int = Field(foreign_key="channel_account.id")
    deadline_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=ObligationState.OPEN, sa_type=String(30))
    fulfilled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fulfilled_via: str | None = Field(
        default=None, sa_type=String(30)
    )  # publication | manual_repost | evidence
    publication_id: int | None = Field(default=None, foreign_key="publication.id")
    evidence_url: str | None = Field(default=None, sa_type=String(1000))
    note: str | None = Field(default=None, sa_type=Text)
    decided_by: int | None = Field(default=None, foreign_key="user.id")  # evidence or waiver
    reminders_sent: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeedState(SQLModel, table=True):
    """Conditional-request state of each polled upstream feed."""

    __tablename__ = "feed_state"

    url: str = Field(sa_type=String(1000), primary_key=True)
    etag: str | None = Field(default=None, sa_type=String(500))
    last_modified: str | None = Field(default=None, sa_type=String(200))
    polled_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SilenceWarning(SQLModel, table=True):
    """One silence warning stage sent for one account's silence (once per stage per silence).

    `since` is when the silence began (the last update, or the account's opening): a new update
    starts a new silence, whose stages are warned afresh. County accounts' missed working days
    are stages too (`workday:2026-11-27`).
    """

    __tablename__ = "silence_warning"
    __table_args__ = (UniqueConstraint("account_id", "stage", "since", name="uq_silence_warning"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="channel_account.id", index=True)
    stage: str = Field(sa_type=String(40))
    since: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
