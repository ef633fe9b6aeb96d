"""The append-only audit trail, and the record of accepted webhook signatures (replay guard)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from syndicator.models.common import RedactedJSON, UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(sa_type=String(200))  # "user:alice", "portal", "worker", "cli"
    action: str = Field(sa_type=String(100))
    object_type: str = Field(sa_type=String(50))
    object_id: str | None = Field(default=None, sa_type=String(100))
    source: str | None = Field(default=None, sa_type=String(200))  # client address, process
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(RedactedJSON, nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """One verified signed request, consumed whatever the answer: the same signature again is a
    replay. An accepted article delivery keeps its article, so an identical re-delivery is told
    `duplicate` with the same id. Rows older than the signature tolerance are pruned."""

    __tablename__ = "webhook_delivery"

    signature: str = Field(sa_type=String(100), primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    article_id: int | None = Field(default=None)
    version: int | None = Field(default=None)


class RefusalCount(SQLModel, table=True):
    """Unauthenticated refusals, counted per (action, reason, address, minute) instead of one audit
    row each: a fuzzer or a scanner must not be able to grow the audit trail without bound."""

    __tablename__ = "refusal_count"

    action: str = Field(sa_type=String(100), primary_key=True)
    reason: str = Field(sa_type=String(200), primary_key=True)
    source: str = Field(sa_type=String(200), primary_key=True)
    minute: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    count: int = Field(default=1)
