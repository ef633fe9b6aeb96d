"""Citizen comments pulled from the channels, and where each stands in moderation."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from syndicator.models.common import RedactedText, UTCDateTime, utcnow


class CommentState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REPLIED = "replied"


class CommentCategory(StrEnum):
    """What a comment is, which decides its clock: a message is answered in 2 working days; a
    netizen correction (网民纠错, 江苏) is forwarded within 1 and resolved within 2."""

    MESSAGE = "message"
    CORRECTION = "correction"


class ApplyState(StrEnum):
    """Whether a moderator's decision has been carried out on the platform."""

    NONE = "none"
    PENDING = "pending"
    # A job is calling the platform (intent recorded first): found again, the call may have landed.
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"


class Comment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "remote_id", name="uq_comment_remote"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(sa_type=String(20))
    account_id: int = Field(foreign_key="channel_account.id", index=True)
    remote_id: str = Field(sa_type=String(200))
    remote_article_id: str = Field(sa_type=String(200))
    article_id: int | None = Field(default=None, foreign_key="article.id", index=True)
    author: str = Field(sa_type=String(200))
    content: str = Field(sa_type=Text)
    content_hash: str = Field(sa_type=String(64))
    revision: int = 1  # an edited comment is a new revision and goes back to pending
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    screening: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=CommentState.PENDING, sa_type=String(20), index=True)
    complex: bool = False
    category: str = Field(
        default=CommentCategory.MESSAGE,
        sa_column=Column(String(20), nullable=False, server_default="message"),
    )
    forward_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # corrections only
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reply_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    due_provisional: bool = False  # the due date's year is in no known holiday schedule
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, sa_type=Text)
    reply_text: str | None = Field(default=None, sa_type=Text)
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    apply_state: str = Field(default=ApplyState.NONE, sa_type=String(20))
    apply_error: str | None = Field(default=None, sa_type=RedactedText)
    card_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    card_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CommentIntake(SQLModel, table=True):
    """Where comment polling stands, in the database so that a Redis flush loses nothing.

    One row per account comment feed (`target` ""; app, Weibo) or per published article on a
    platform without a feed (`target` from the adapter's comment_target; WeChat). The cadence
    (syndicator/moderation/cadence.py) follows the article's age from `started_at` (or the
    moderator's `resumed_at`) and sets `stopped_at` after the configured number of days.
    """

    __tablename__ = "comment_intake"
    __table_args__ = (UniqueConstraint("account_id", "target", name="uq_comment_intake_target"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="channel_account.id", index=True)
    target: str = Field(default="", sa_type=String(400))
    publication_id: int | None = Field(default=None, foreign_key="publication.id", index=True)
    cursor: str | None = Field(default=None, sa_type=Text)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resumed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_poll_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)


class Notification(SQLModel, table=True):
    """Outbox of chat messages: written in the transaction that decides to send, sent by a job.

    `key` makes each message unique (a reminder for one obligation and offset is sent once, however
    many workers see it due), and a message survives Telegram being unreachable.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=String(200), unique=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    text: str = Field(sa_type=RedactedText(queries=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="pending", sa_type=String(20), index=True)  # pending | sent | failed
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=RedactedText)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChatDelivery(SQLModel, table=True):
    """How far a chat front end other than Telegram got with one outbox message.

    Telegram keeps its state on the Notification row itself (state/attempts); every further front
    end (WeCom) has a row per message here, so one message reaches every front end independently.
    `ref` keeps what the front end needs to touch the message again (WeCom: the card's unused
    response codes).
    """

    __tablename__ = "chat_delivery"
    __table_args__ = (UniqueConstraint("notification_id", "frontend", name="uq_chat_delivery_frontend"),)

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id")
    frontend: str = Field(sa_type=String(20))
    state: str = Field(default="pending", sa_type=String(20), index=True)  # pending | sent | failed
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=RedactedText)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ref: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
