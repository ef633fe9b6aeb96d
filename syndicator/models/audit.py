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
    """One accepted signed delivery; a second request with the same signature is a replay."""

    __tablename__ = "webhook_delivery"

    signature: str = Field(sa_type=String(100), primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
