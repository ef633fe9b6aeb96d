"""The unit's mobile app backend, over the protocol Syndicator defines (DESIGN.md, "The app channel").

Pushes are signed like ingest and carry `Idempotency-Key`; the backend answers a repeated key
with the original answer, so repeating a push is how an outcome-unknown one is read back.
Comments are held until approved: the app is the one channel where 先审后发 is enforced by the
platform itself.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
from redis.asyncio import Redis

from channels.app.render import render_article
from channels.base import (
    AccountConfig,
    AccountMisconfiguredError,
    ArticleContent,
    Capabilities,
    ChannelError,
    CommentAction,
    CommentPage,
    CorrectionStrategy,
    LiveContent,
    PermanentError,
    ProgressLog,
    PublishResult,
    RateLimitedError,
    RemoteComment,
    RenderedPost,
    TransientError,
)
from channels.http import TRANSPORT_ERRORS, transport_error
from channels.signing import signed_headers

PLATFORM = "app"
COMMENT_PAGE = 500  # comments per feed page: fewer round trips per comment for the poller


class AppAdapter:
    capabilities = Capabilities(
        correction=CorrectionStrategy.UPDATE_IN_PLACE,
        can_withdraw=True,
        comments_premoderated=True,
        idempotent_publish=True,
    )

    def __init__(
        self,
        account: AccountConfig,
        http: httpx.AsyncClient,
        redis: Redis | None = None,
        progress: ProgressLog | None = None,  # not needed: the idempotency key is the whole record
    ) -> None:
        if not account.secret:
            raise AccountMisconfiguredError(
                f"app account {account.name!r} has no signing secret (the variable named by --secret-env)",
                platform=PLATFORM,
            )
        self.account = account
        self.http = http

    def render(self, article: ArticleContent) -> RenderedPost:
        return render_article(article)

    async def publish(self, post: RenderedPost, key: str) -> PublishResult:
        data = await self._call("POST", "/v1/articles", _push_body(post), idempotency_key=key)
        return PublishResult(remote_id=str(data["id"]), url=data.get("url"))

    async def recover(self, post: RenderedPost, key: str) -> PublishResult | None:
        # Publishing is idempotent by key: repeating the push returns the original answer.
        return await self.publish(post, key)

    async def check_status(self, result: PublishResult) -> PublishResult:
        return result

    async def update(self, remote_id: str, post: RenderedPost, key: str) -> PublishResult:
        data = await self._call("PUT", f"/v1/articles/{remote_id}", _push_body(post), idempotency_key=key)
        return PublishResult(remote_id=str(data.get("id", remote_id)), url=data.get("url"))

    async def withdraw(self, remote_id: str) -> None:
        await self._call("DELETE", f"/v1/articles/{remote_id}", missing_ok=True)

    async def fetch_live(self, remote_id: str) -> LiveContent | None:
        data = await self._call("GET", f"/v1/articles/{remote_id}", missing_ok=True)
        if not data or data.get("status") == "deleted":
            return None
        return LiveContent(
            remote_id=remote_id, title=data["title"], body=data["body_html"], url=data.get("url")
        )

    async def list_comments(self, cursor: str | None) -> CommentPage:
        data = await self._call("GET", "/v1/comments", params={"since": cursor or "0", "limit": COMMENT_PAGE})
        comments = [
            RemoteComment(
                remote_id=str(item["id"]),
                remote_article_id=str(item["article_id"]),
                author=item["author"],
                content=item["content"],
                created_at=datetime.fromisoformat(item["created_at"]),
            )
            for item in data.get("comments", [])
        ]
        return CommentPage(comments=comments, cursor=data.get("next_cursor", cursor))

    def comment_target(self, result: PublishResult) -> str | None:
        return None  # every comment comes through the account's feed (list_comments)

    async def list_article_comments(self, target: str, cursor: str | None) -> CommentPage:
        raise PermanentError("comments are read through the account feed", code="feed", platform=PLATFORM)

    async def moderate_comment(
        self, comment: RemoteComment, action: CommentAction, text: str | None = None
    ) -> None:
        body = {"content": text} if action == CommentAction.REPLY else {}
        await self._call("POST", f"/v1/comments/{comment.remote_id}/{action.value}", body)

    async def refresh_auth(self) -> None:
        """The app channel signs every request with a static secret: there is nothing to refresh."""

    async def verify(self) -> None:
        """A signed read of the account: the backend answers 401 when the secret is wrong."""
        await self._call("GET", "/v1/account")

    async def aclose(self) -> None:
        """The HTTP client is shared and owned by the worker."""

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str | int] | None = None,
        idempotency_key: str | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any]:
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        url = httpx.URL(self.account.api_base_url + path)
        # The path the backend sees (with the base URL's own prefix) is what gets signed.
        signature = signed_headers(self.account.secret or "", method, url.path, raw)
        headers = {"Content-Type": "application/json", **signature}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self.http.request(method, url, content=raw, headers=headers, params=params)
        except TRANSPORT_ERRORS as exc:
            # Every app call is safe to repeat: pushes carry an idempotency key.
            raise transport_error(exc, PLATFORM, what=f"{method} {path}", idempotent=True) from exc
        if response.status_code in (404, 410) and missing_ok:  # 410 Gone: deleted in the app's CMS
            return {}
        if response.status_code >= 400:
            raise _error_for(response)
        return response.json() if response.content else {}


def _push_body(post: RenderedPost) -> dict[str, Any]:
    return {
        "title": post.title,
        "summary": post.summary,
        "body_html": post.body,
        "source_url": post.link,
        "images": list(post.images),
        **post.extra,
    }


def _error_for(response: httpx.Response) -> ChannelError:
    try:
        message = str(response.json().get("error", response.text))
    except ValueError:
        message = response.text[:200]
    status = response.status_code
    if status == 429:
        return RateLimitedError(
            message,
            retry_after=float(response.headers.get("Retry-After", 60)),
            code=status,
            platform=PLATFORM,
        )
    if status >= 500 or status in (408, 409):
        # Safe to repeat: the push carries an idempotency key.
        return TransientError(message, code=status, platform=PLATFORM)
    if status in (401, 403):
        message = f"the app backend refused our signature ({message}); check the account's secret"
    return PermanentError(message, code=status, platform=PLATFORM)
