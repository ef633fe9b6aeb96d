"""The contract every channel adapter implements, and the value types that cross it.

Adapters know nothing of the database or the queue: they take plain values, talk to their
platform over HTTP and either return a value or raise one of the typed errors below. The
pipeline decides what an error means for the publication (retry, defer, refresh, fail).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from channels.redaction import register_secret


class Platform(StrEnum):
    APP = "app"
    WECHAT = "wechat"
    WEIBO = "weibo"


class CorrectionStrategy(StrEnum):
    """How a channel carries a new version of something it already shows."""

    UPDATE_IN_PLACE = "update_in_place"
    REPUBLISH = "republish"  # withdraw the old post, publish the new version
    # No "notice" strategy: every platform served can edit (the app) or delete (WeChat freepublish/delete,
    # Weibo statuses/destroy); a platform that can do neither would need one (reference/platforms.md).


class CommentAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REPLY = "reply"


@dataclass(frozen=True)
class Capabilities:
    correction: CorrectionStrategy
    can_withdraw: bool
    # True when the platform shows a comment only after we approve it (先审后发 is enforceable).
    comments_premoderated: bool
    # True when repeating a publish with the same key can never create a second post.
    idempotent_publish: bool
    # True when publish returns `submitted` and completion must be polled with check_status.
    asynchronous_publish: bool = False
    # True when one account-wide feed lists every new comment (list_comments); False when comments
    # are read per published article (comment_target + list_article_comments).
    comment_feed: bool = True


@dataclass(frozen=True)
class AccountConfig:
    """What an adapter needs to know about the account it talks for."""

    account_id: int
    platform: Platform
    name: str
    api_base_url: str
    app_id: str | None = None
    secret: str | None = None  # resolved from the account's env var; never stored in the DB
    safe_domain: str | None = None
    default_cover: str | None = None
    # This installation's public IP; Weibo wants it with every post (`rip`).
    public_ip: str | None = None
    # Hosts (and subdomains) article images may be fetched from; empty: the portal's own domain.
    image_hosts: tuple[str, ...] = ()
    # Test-only: content fetches may reach loopback (the tests' local portal servers).
    fetch_allow_loopback: bool = False

    def __post_init__(self) -> None:
        register_secret(self.secret)  # redacted wherever it might appear


@dataclass(frozen=True)
class ArticleContent:
    """One version of a portal article, as the pipeline hands it to a channel to render."""

    external_id: str
    title: str
    body_html: str
    url: str
    unit: str
    published_at: datetime
    version: int
    doc_number: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class RenderedPost:
    """An article as it will look on one channel, ready to send."""

    title: str
    body: str
    summary: str
    link: str
    images: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishResult:
    remote_id: str
    url: str | None = None
    # `submitted`: the platform accepted the job but publishes asynchronously (poll check_status).
    state: str = "published"
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveContent:
    remote_id: str
    title: str
    body: str
    url: str | None = None


@dataclass(frozen=True)
class RemoteComment:
    remote_id: str
    remote_article_id: str
    author: str
    content: str
    created_at: datetime
    # Some platforms (WeChat) need more than one id to address a comment.
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CommentPage:
    comments: list[RemoteComment]
    cursor: str | None


class ChannelError(Exception):
    """A platform call did not do what was asked. `code`/`message` are the platform's own words."""

    def __init__(self, message: str, *, code: str | int | None = None, platform: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = None if code is None else str(code)
        self.platform = platform

    def __str__(self) -> str:
        prefix = f"[{self.platform} {self.code}] " if self.code is not None else ""
        return f"{prefix}{self.message}"


class TransientError(ChannelError):
    """The call certainly did not take effect and may be repeated (5xx before commit, busy)."""


class OutcomeUnknownError(ChannelError):
    """The call may or may not have taken effect (timeout, dropped connection): read back first."""


class AuthExpiredError(ChannelError):
    """The credentials are expired or invalid: refresh them and try again."""


class RateLimitedError(ChannelError):
    """A quota is exhausted: try again after `retry_after` seconds, the reset the platform reported
    (0 when it says "now"; the caller adds its own margin). syndicator/quota.py then holds every
    caller on the same credential back until then."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        per_api: bool = False,
        code: str | int | None = None,
        platform: str | None = None,
    ) -> None:
        super().__init__(message, code=code, platform=platform)
        self.retry_after = retry_after
        # True when the platform limits only the API called (WeChat 45009's daily quota per API,
        # Weibo 10024 "special API"): the rest of the credential's calls may go on.
        self.per_api = per_api


class PermanentError(ChannelError):
    """The platform refused for good (bad content, no permission). Retrying will not help."""


class AccountMisconfiguredError(PermanentError):
    """The account lacks a setting (or its secret variable is unset): an operator must fix it first."""

    def __init__(self, message: str, *, platform: str | None = None) -> None:
        super().__init__(message, code=ACCOUNT_MISCONFIGURED, platform=platform)


ACCOUNT_MISCONFIGURED = "account_misconfigured"


class ProgressLog(Protocol):
    """Durable notes an adapter keeps about a publish it has not finished, keyed by the idempotency
    key (e.g. a WeChat draft's media_id before `freepublish/submit`). The pipeline keeps them in the
    database, so they survive a killed worker and a flushed Redis, where caches alone would not."""

    async def recall(self, key: str) -> dict[str, str]: ...

    async def note(self, key: str, **fields: str) -> None: ...


class ChannelAdapter(Protocol):
    """One account on one platform. Built per account by `channels.registry.build_adapter`."""

    capabilities: Capabilities

    def render(self, article: ArticleContent) -> RenderedPost: ...

    async def publish(self, post: RenderedPost, key: str) -> PublishResult: ...

    async def recover(self, post: RenderedPost, key: str) -> PublishResult | None:
        """Find out whether an earlier, outcome-unknown publish with this key landed."""
        ...

    async def check_status(self, result: PublishResult) -> PublishResult:
        """Follow an asynchronous publication; raises PermanentError when it failed."""
        ...

    async def update(self, remote_id: str, post: RenderedPost, key: str) -> PublishResult: ...

    async def withdraw(self, remote_id: str) -> None: ...

    async def fetch_live(self, remote_id: str) -> LiveContent | None: ...

    async def list_comments(self, cursor: str | None) -> CommentPage:
        """The account's comment feed since `cursor` (capabilities.comment_feed)."""
        ...

    def comment_target(self, result: PublishResult) -> str | None:
        """Where a published post's comments are read (list_article_comments); None with a feed."""
        ...

    async def list_article_comments(self, target: str, cursor: str | None) -> CommentPage:
        """One page of one article's comments since `cursor` (adapters without a feed)."""
        ...

    async def moderate_comment(
        self, comment: RemoteComment, action: CommentAction, text: str | None = None
    ) -> None: ...

    async def refresh_auth(self) -> None: ...

    async def verify(self) -> None:
        """The platform's cheapest authenticated call: returns when the credentials work."""
        ...

    async def aclose(self) -> None: ...
