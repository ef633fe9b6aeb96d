"""Fakes for the unit tier: a scripted channel adapter and a clock that only moves when told.

`FakeAdapter` implements channels.base.ChannelAdapter without a network: each call takes the next
answer scripted for its method (a value to return, or an exception to raise) and, with none left,
answers like a healthy platform. Every call is recorded, so a test asserts what was sent.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from channels.base import (
    ArticleContent,
    Capabilities,
    CommentAction,
    CommentPage,
    CorrectionStrategy,
    LiveContent,
    PublishResult,
    RemoteComment,
    RenderedPost,
)

# A platform that can delete but not edit, and may post twice when a publish is repeated (Weibo-like).
NON_IDEMPOTENT = Capabilities(
    correction=CorrectionStrategy.REPUBLISH,
    can_withdraw=True,
    comments_premoderated=False,
    idempotent_publish=False,
)


T = TypeVar("T")


@dataclass
class FixedClock:
    """Time for code under test: `now()` (UTC) and, called, epoch seconds (WorkerContext.clock)."""

    at: datetime = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def __call__(self) -> float:
        return self.at.timestamp()

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class FakeAdapter:
    capabilities: Capabilities = NON_IDEMPOTENT
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _answers: defaultdict[str, deque[Any]] = field(default_factory=lambda: defaultdict(deque))

    def script(self, method: str, *answers: Any) -> FakeAdapter:
        """Queue answers for `method`: each call takes one (an exception instance is raised)."""
        self._answers[method].extend(answers)
        return self

    def called(self, method: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.calls if name == method]

    def _answer(self, method: str, args: tuple[Any, ...], default: T) -> T:
        self.calls.append((method, args))
        if not self._answers[method]:
            return default
        answer = self._answers[method].popleft()
        if isinstance(answer, BaseException):
            raise answer
        return cast(T, answer)

    def render(self, article: ArticleContent) -> RenderedPost:
        return RenderedPost(
            title=article.title, body=article.body_html, summary=article.title, link=article.url
        )

    async def publish(self, post: RenderedPost, key: str) -> PublishResult:
        return self._answer("publish", (post, key), PublishResult(remote_id=f"post-{key}"))

    async def recover(self, post: RenderedPost, key: str) -> PublishResult | None:
        return self._answer("recover", (post, key), None)

    async def check_status(self, result: PublishResult) -> PublishResult:
        done = PublishResult(remote_id=result.remote_id, url=result.url, details=result.details)
        return self._answer("check_status", (result,), done)

    async def update(self, remote_id: str, post: RenderedPost, key: str) -> PublishResult:
        return self._answer("update", (remote_id, post, key), PublishResult(remote_id=remote_id))

    async def withdraw(self, remote_id: str) -> None:
        self._answer("withdraw", (remote_id,), None)

    async def fetch_live(self, remote_id: str) -> LiveContent | None:
        return self._answer("fetch_live", (remote_id,), None)

    async def list_comments(self, cursor: str | None) -> CommentPage:
        return self._answer("list_comments", (cursor,), CommentPage([], cursor))

    def comment_target(self, result: PublishResult) -> str | None:
        return self._answer("comment_target", (result,), None)

    async def list_article_comments(self, target: str, cursor: str | None) -> CommentPage:
        return self._answer("list_article_comments", (target, cursor), CommentPage([], cursor))

    async def moderate_comment(
        self, comment: RemoteComment, action: CommentAction, text: str | None = None
    ) -> None:
        self._answer("moderate_comment", (comment, action, text), None)

    async def refresh_auth(self) -> None:
        self._answer("refresh_auth", (), None)

    async def verify(self) -> None:
        self._answer("verify", (), None)

    async def aclose(self) -> None:
        self._answer("aclose", (), None)
