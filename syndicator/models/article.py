"""Portal articles, their versions, and each version's publication on each account."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

from sqlalchemy import JSON, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel
from typing_extensions import TypedDict

from syndicator.models.common import RedactedText, UTCDateTime, utcnow
from syndicator.pipeline.state import PublicationState  # the state machine owns its states


class ArticleState(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class VersionStatus(StrEnum):
    APPLIED = "applied"
    STALE = "stale"  # arrived after a newer version: recorded, never applied


class Attachment(TypedDict):
    """An attachment a version carries, as the portal named it (`url` may be absent)."""

    name: str
    url: str | None


class Article(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("source_portal", "external_id", name="uq_article_source"),)

    id: int | None = Field(default=None, primary_key=True)
    source_portal: str = Field(sa_type=String(200))
    external_id: str = Field(sa_type=String(200))
    unit_id: int = Field(foreign_key="unit.id", index=True)
    title: str = Field(sa_type=String(500))
    url: str = Field(sa_type=String(1000))
    state: str = Field(default=ArticleState.ACTIVE, sa_type=String(20))
    current_version: int = 1
    doc_number: str | None = Field(default=None, sa_type=String(100), index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ArticleVersion(SQLModel, table=True):
    __tablename__ = "article_version"
    __table_args__ = (
        UniqueConstraint("article_id", "content_hash", name="uq_version_content"),
        UniqueConstraint("article_id", "number", name="uq_version_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    number: int
    content_hash: str = Field(sa_type=String(64))
    status: str = Field(default=VersionStatus.APPLIED, sa_type=String(20))
    # The content, typed: what the checks read and the pipeline sends (ingest writes it).
    external_id: str = Field(sa_type=String(200))
    title: str = Field(sa_type=String(500))
    url: str = Field(sa_type=String(1000))
    published_at: datetime = Field(sa_type=UTCDateTime)
    doc_number: str | None = Field(default=None, sa_type=String(100))
    category: str | None = Field(default=None, sa_type=String(100))
    body_html: str = Field(sa_type=Text)  # as received
    # The body as the pre-publish checks sanitised it; None until checked (a stale version never is).
    sanitized_html: str | None = Field(default=None, sa_type=Text)
    attachments: list[Attachment] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The document exactly as the portal sent it, kept as evidence; nothing is checked or sent from it.
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    source_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Pre-publish review (see models/check.py): clear | held | released | rejected.
    review_state: str = Field(
        default="clear", sa_type=String(20), index=True, sa_column_kwargs={"server_default": "clear"}
    )
    submitted_by: str | None = Field(default=None, sa_type=String(100))  # the portal editor, if named
    reviewed_by: int | None = Field(default=None, foreign_key="user.id")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_reason: str | None = Field(default=None, sa_type=Text)

    @property
    def body_to_send(self) -> str:
        """Channels get the body the pre-publish checks sanitised, never the body as received."""
        return self.body_html if self.sanitized_html is None else self.sanitized_html


class Publication(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("article_id", "account_id", "version_id", name="uq_publication"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    version_id: int = Field(foreign_key="article_version.id")
    account_id: int = Field(foreign_key="channel_account.id", index=True)
    state: str = Field(default=PublicationState.PENDING, sa_type=String(20), index=True)
    # Transient failures so far; quota deferrals do not count.
    attempts: int = 0
    # Bumped by a manual retry so the new job gets a fresh arq job id.
    generation: int = 0
    # Sent to platforms as the idempotency key. Random, not the row id: a platform (and our Redis
    # caches) outlive a database that is reset, and must never take a new post for an old one.
    idempotency_key: str | None = Field(default_factory=lambda: uuid4().hex, sa_type=String(32), unique=True)
    remote_id: str | None = Field(default=None, sa_type=String(200))
    remote_url: str | None = Field(default=None, sa_type=String(1000))
    remote_details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error_code: str | None = Field(default=None, sa_type=String(100))
    error_message: str | None = Field(default=None, sa_type=RedactedText)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Reconciler passes that had to re-enqueue it with no state change since; escalated at a limit.
    stalled_passes: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def key(self) -> str:
        """The idempotency key sent to platforms: stable across retries of this publication."""
        return (
            f"syndicator-{self.idempotency_key}"
            if self.idempotency_key
            else f"syndicator-publication-{self.id}"
        )
