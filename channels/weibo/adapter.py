"""Sina Weibo channel: a thin async client of the open API (api.weibo.com/2/…) for one account.

No maintained SDK exists (reference/platforms.md §4), so this speaks the ~9 form-encoded endpoints
directly. Every call carries `access_token` (= account.secret) and answers either JSON or
`{"request", "error_code", "error"}` (open.weibo.com/wiki/Error_code), mapped to channels.base
errors below. Redis is not needed: Weibo tokens cannot be refreshed, so there is no shared token.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from redis.asyncio import Redis

from channels import fetch
from channels.base import (
    AccountConfig,
    AccountMisconfiguredError,
    ArticleContent,
    AuthExpiredError,
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
from channels.fetch import FetchPolicy, SafeFetcher, fetch_image, image_policy
from channels.http import TRANSPORT_ERRORS, transport_error
from channels.weibo.render import render_status
from channels.weibo.text import TOPIC_RE, URL_RE, host_on_domain, same_status_text, weibo_length

logger = structlog.get_logger(__name__)

PLATFORM = "weibo"
TRANSIENT_CODES = frozenset({10001, 10002, 10009})  # system error, service unavailable, busy
RATE_LIMIT_CODES = frozenset({10022, 10023, 10024, 20016})  # IP / user / special API / 发布内容过于频繁
PER_API_CODES = frozenset({10024, 20016})  # one API's limit (e.g. share.json's 30 an hour), not the token's
REPEATED_CODES = frozenset({"20017", "20019", "20111"})  # similar / same content, 不能发布相同的微博
AUTH_CODES = frozenset({21315, 21327, 21332})  # token expired, expired_token, invalid_access_token
GONE_STATUS, GONE_COMMENT = 20101, 20201  # target weibo / comment does not exist
MAX_PIC_BYTES = 5 * 1024 * 1024 - 1  # share.json: pic < 5 MB, JPEG/GIF/PNG
PIC_TYPES = frozenset({"image/jpeg", "image/gif", "image/png"})
RECENT_STATUSES = 50  # user_timeline page read back by recover(): count default 50
COMMENT_PAGE = 100  # comments/to_me count per poll (default 50, at most 200)
WEIBO_TIME = "%a %b %d %H:%M:%S %z %Y"  # "Tue May 31 17:46:55 +0800 2011"


class WeiboAdapter:
    """One Weibo account.

    Weibo has no comment pre-moderation through the API: a citizen's comment is public on arrival,
    so rejecting one deletes it afterwards (comments/destroy) and approving is a no-op. Statuses
    cannot be edited: a correction destroys the old status and shares the new one. share.json has
    no idempotency key, so an outcome-unknown share is resolved by reading the account's recent
    statuses back (recover), and a "repeat content" refusal adopts the status already there.
    """

    capabilities = Capabilities(
        correction=CorrectionStrategy.REPUBLISH,
        can_withdraw=True,
        comments_premoderated=False,
        idempotent_publish=False,
    )

    def __init__(
        self,
        *,
        account: AccountConfig,
        http: httpx.AsyncClient,
        redis: Redis | None = None,
        progress: ProgressLog | None = None,  # not needed: a lost share is found in the timeline
        rip: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not account.secret:
            raise AccountMisconfiguredError(
                f"Weibo account {account.name!r} has no access token (the variable named by --secret-env)",
                platform=PLATFORM,
            )
        self._account = account
        self._http = http
        self._fetcher = SafeFetcher(FetchPolicy(allow_loopback=account.fetch_allow_loopback))
        self._base = (account.api_base_url or "https://api.weibo.com").rstrip("/")
        # share/reply require `rip`, the operating user's real IP (SYNDICATOR_PUBLIC_IP).
        self._rip = rip or account.public_ip or "127.0.0.1"
        self._clock = clock or (lambda: datetime.now(UTC))
        self._log = logger.bind(channel=PLATFORM, account_id=account.account_id)

    def render(self, article: ArticleContent) -> RenderedPost:
        return render_status(article)

    async def publish(self, post: RenderedPost, key: str) -> PublishResult:
        self._check_postable(post)
        picture = await self._fetch_picture(post)
        files = {"pic": picture} if picture else None
        fields = {"status": post.body, "rip": self._rip}
        try:
            status = await self._call("POST", "statuses/share.json", fields, files, idempotent=False)
        except PermanentError as exc:
            if exc.code not in REPEATED_CODES:
                raise
            adopted = await self.recover(post, key)
            if adopted is None:
                raise
            self._log.info("weibo_repeat_adopted", key=key, remote_id=adopted.remote_id, code=exc.code)
            return adopted
        self._log.info("weibo_shared", key=key, remote_id=status.get("idstr"), picture=bool(picture))
        return self._result(status)

    async def recover(self, post: RenderedPost, key: str) -> PublishResult | None:
        timeline = await self._call("GET", "statuses/user_timeline.json", {"count": RECENT_STATUSES})
        for status in timeline.get("statuses", []):
            # Matched on the text without links: Weibo rewrites the portal link to t.cn, and an
            # older version of the same article would carry the same link anyway.
            if same_status_text(post.body, str(status.get("text", ""))):
                self._log.info("weibo_recovered", key=key, remote_id=status.get("idstr"))
                return self._result(status)
        self._log.info("weibo_not_recovered", key=key)
        return None

    async def check_status(self, result: PublishResult) -> PublishResult:
        return result  # share.json publishes synchronously

    async def update(self, remote_id: str, post: RenderedPost, key: str) -> PublishResult:
        """Destroy then share (Weibo cannot edit). A failed share leaves the old status withdrawn;
        repeating update is safe: the destroy answers "does not exist" and the share is retried."""
        self._check_postable(post)  # refuse before destroying anything
        await self.withdraw(remote_id)
        return await self.publish(post, key)

    async def withdraw(self, remote_id: str) -> None:
        try:
            await self._call("POST", "statuses/destroy.json", {"id": remote_id})
        except PermanentError as exc:
            if exc.code != str(GONE_STATUS):
                raise
        self._log.info("weibo_withdrawn", remote_id=remote_id)

    async def fetch_live(self, remote_id: str) -> LiveContent | None:
        try:
            status = await self._call("GET", "statuses/show.json", {"id": remote_id})
        except PermanentError as exc:
            if exc.code == str(GONE_STATUS):  # 20101 Target weibo does not exist
                return None
            raise
        if str(status.get("deleted", "0")) == "1":  # timelines keep deleted stubs with deleted="1"
            return None
        text = str(status.get("text", ""))
        title = text.partition("【")[2].partition("】")[0]  # the template puts the title in 【】
        return LiveContent(remote_id=remote_id, title=title, body=text, url=_status_url(status))

    async def list_comments(self, cursor: str | None) -> CommentPage:
        """New comments on any of the account's statuses, oldest pages last.

        comments/to_me covers every status of the account in one id-ordered stream (comments/show
        would need one cursor per status). Its pages are newest first, so the JSON cursor holds
        `since` (all ids ≤ since are done), and while a sweep is incomplete `max_id` (the next page
        ends there) and `top` (the highest id seen, the next `since`).
        """
        position = json.loads(cursor) if cursor else {}
        since, top = int(position.get("since", 0)), int(position.get("top", 0))
        params: dict[str, Any] = {"since_id": since, "count": COMMENT_PAGE}
        if position.get("max_id"):
            params["max_id"] = int(position["max_id"])
        raw = (await self._call("GET", "comments/to_me.json", params)).get("comments", [])
        ids = [int(item["id"]) for item in raw]
        top = max([top, since, *ids])
        if len(raw) >= COMMENT_PAGE:  # older unseen comments may remain below this page
            following = {"since": since, "max_id": min(ids) - 1, "top": top}
        else:
            following = {"since": top}
        return CommentPage(comments=[_comment(item) for item in raw], cursor=json.dumps(following))

    def comment_target(self, result: PublishResult) -> str | None:
        return None  # every comment comes through the account's feed (list_comments)

    async def list_article_comments(self, target: str, cursor: str | None) -> CommentPage:
        raise PermanentError("comments are read through the account feed", code="feed", platform=PLATFORM)

    async def moderate_comment(
        self, comment: RemoteComment, action: CommentAction, text: str | None = None
    ) -> None:
        if action is CommentAction.APPROVE:
            return  # already public: Weibo has no pre-moderation
        if action is CommentAction.REJECT:
            await self._destroy_comment(comment.remote_id)
            return
        if not text:
            raise PermanentError("a reply needs text", code="empty_reply", platform=PLATFORM)
        params = {"cid": comment.remote_id, "id": comment.remote_article_id, "comment": text}
        await self._call("POST", "comments/reply.json", params | {"rip": self._rip}, idempotent=False)
        self._log.info("weibo_comment_replied", comment_id=comment.remote_id)

    async def verify(self) -> None:
        """account/rate_limit_status: authenticated and uses no posting quota
        (open.weibo.com/wiki/2/account/rate_limit_status/en)."""
        await self._call("GET", "account/rate_limit_status.json", {})

    async def refresh_auth(self) -> None:
        # Only apps built on Weibo's official mobile SDK get a refresh token (授权机制说明, copy at
        # m.php.cn/zh-tw/php/php-Authorization-mechanism.html): the account must authorise again.
        raise PermanentError(
            f"Weibo account {self._account.name!r} needs re-authorisation: its access token expired "
            "or was revoked, and Weibo offers no silent refresh",
            code="reauthorize",
            platform=PLATFORM,
        )

    async def aclose(self) -> None:
        await self._fetcher.aclose()  # the HTTP client is the worker's, shared by every adapter

    async def _destroy_comment(self, comment_id: str) -> None:
        try:
            await self._call("POST", "comments/destroy.json", {"cid": comment_id})
        except PermanentError as exc:
            if exc.code != str(GONE_COMMENT):  # already gone is what we wanted
                raise
        self._log.info("weibo_comment_destroyed", comment_id=comment_id)

    def _check_postable(self, post: RenderedPost) -> None:
        """Refuse before sending what Weibo would refuse (20018 illegal URL, 20012 too long)."""
        domain = self._account.safe_domain
        if not domain:
            raise PermanentError(
                "the Weibo account has no safe domain (安全域名) configured; share.json needs one",
                code="no_safe_domain",
                platform=PLATFORM,
            )
        for url in (post.link, *URL_RE.findall(post.body)):
            if not host_on_domain(url, domain):
                raise PermanentError(
                    f"link {url} is not on the account's safe domain {domain}; not sent "
                    "(Weibo would answer 20018 包含非法网址)",
                    code="20018",
                    platform=PLATFORM,
                )
        if post.link not in post.body:
            raise PermanentError("the status text lacks the portal link", code="no_link", platform=PLATFORM)
        if weibo_length(post.body) > 140 or TOPIC_RE.search(post.body):
            raise PermanentError(
                "status longer than 140 Weibo characters or with a #topic#; not sent",
                code="20012",
                platform=PLATFORM,
            )

    async def _fetch_picture(self, post: RenderedPost) -> tuple[str, bytes, str] | None:
        """The first image, when it is a JPEG/GIF/PNG under 5 MB from an allowed public host (the
        safe fetcher); otherwise the post goes without. A portal that does not answer is transient:
        nothing was sent to Weibo yet, and a post without its image would stay that way."""
        if not post.images:
            return None
        url = post.images[0]
        policy = image_policy(
            self._fetcher.policy, hosts=self._account.image_hosts, link=post.link, max_bytes=MAX_PIC_BYTES
        )
        try:
            return await fetch_image(self._fetcher, url, policy=policy, types=PIC_TYPES)
        except (fetch.Unreachable, fetch.NameNotResolved) as exc:
            raise transport_error(exc, PLATFORM, what="image", idempotent=True) from exc
        except fetch.BadAnswer as exc:
            if exc.status >= 500:
                raise transport_error(exc, PLATFORM, what="image", idempotent=True) from exc
            self._log.warning("weibo_image_skipped", url=exc.url, reason=str(exc))
        except fetch.FetchError as exc:  # refused: unsafe address, host not allowed, too large
            self._log.warning("weibo_image_skipped", url=exc.url, reason=str(exc))
        return None

    async def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        *,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        url = f"{self._base}/2/{path}"
        fields = {"access_token": self._account.secret or "", **params}
        try:
            if method == "GET":
                response = await self._http.get(url, params=fields)
            else:
                response = await self._http.post(url, data=fields, files=files)
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, PLATFORM, what=path, idempotent=idempotent) from exc
        body = _json(response)
        if response.status_code == 200 and "error_code" not in body:
            return body
        raise await self._api_error(response, body, path)

    async def _api_error(self, response: httpx.Response, body: dict[str, Any], path: str) -> ChannelError:
        message = str(body.get("error") or response.text[:200] or f"HTTP {response.status_code}")
        try:
            code = int(body["error_code"])  # documented as a string, observed as a number
        except (KeyError, TypeError, ValueError):
            if response.status_code >= 500:
                return TransientError(message, code=response.status_code, platform=PLATFORM)
            return PermanentError(message, code=response.status_code, platform=PLATFORM)
        self._log.warning("weibo_api_error", path=path, code=code, error=message)
        if code in TRANSIENT_CODES:
            return TransientError(message, code=code, platform=PLATFORM)
        if code in RATE_LIMIT_CODES:
            retry_after = await self._retry_after(lookup="rate_limit_status" not in path)
            per_api = code in PER_API_CODES
            return RateLimitedError(
                message, retry_after=retry_after, per_api=per_api, code=code, platform=PLATFORM
            )
        if code in AUTH_CODES:
            return AuthExpiredError(message, code=code, platform=PLATFORM)
        return PermanentError(message, code=code, platform=PLATFORM)

    async def _retry_after(self, *, lookup: bool) -> float:
        """Seconds until the hourly window resets: what rate_limit_status reports (0 is "now": the
        caller adds its margin), or the next clock hour only when it cannot tell."""
        now = self._clock()
        if lookup:
            try:
                limits = await self._call("GET", "account/rate_limit_status.json", {})
                seconds: float | None = float(limits["reset_time_in_seconds"])
            except (ChannelError, KeyError, TypeError, ValueError):
                seconds = None
            if seconds is not None and seconds > 10**9:  # an absolute epoch, as Twitter's field was
                seconds -= now.timestamp()
            if seconds is not None:
                return max(seconds, 0.0)
        next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return (next_hour - now).total_seconds()

    def _result(self, status: Mapping[str, Any]) -> PublishResult:
        remote_id = str(status.get("idstr") or status["id"])
        details = {"mid": str(status.get("mid", remote_id)), "text": str(status.get("text", ""))}
        return PublishResult(remote_id=remote_id, url=_status_url(status), details=details)


def _status_url(status: Mapping[str, Any]) -> str:
    return f"https://m.weibo.cn/status/{status.get('idstr') or status.get('id')}"  # mobile page by id


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _comment(item: Mapping[str, Any]) -> RemoteComment:
    user, status = item.get("user") or {}, item.get("status") or {}
    return RemoteComment(
        remote_id=str(item.get("idstr") or item["id"]),
        remote_article_id=str(status.get("idstr") or status.get("id", "")),
        author=str(user.get("screen_name", "")),
        content=str(item.get("text", "")),
        created_at=datetime.strptime(str(item["created_at"]), WEIBO_TIME),
        extra={"author_uid": str(user.get("idstr") or user.get("id", ""))},
    )
