"""Pre-publish check findings, and the review of versions the checks held back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from syndicator.models.common import UTCDateTime, utcnow


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"


class ReviewState(StrEnum):
    """Where an article version stands with the pre-publish checks."""

    CLEAR = "clear"  # no blocking finding: fanned out
    HELD = "held"  # a blocking finding: waits for a reviewer, nothing sent
    RELEASED = "released"  # a reviewer released it (audited): fanned out
    REJECTED = "rejected"  # a reviewer rejected it: never sent


class CheckResult(SQLModel, table=True):
    __tablename__ = "check_result"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="article_version.id", index=True)
    rule: str = Field(sa_type=String(50))
    severity: str = Field(sa_type=String(10))
    message: str = Field(sa_type=Text)
    matched: str = Field(default="", sa_type=Text)
    # title | body | doc_number
    field: str = Field(default="body", sa_type=String(20), sa_column_kwargs={"server_default": "body"})
    position: int = -1  # character offset in the checked text; -1 when not positional
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
