"""WeChat 公众号 adapter: material -> draft -> freepublish, read back, withdraw, comments.

Wire facts and their sources are in /work/shared/reference/platforms.md §1; the emulator in
emulator.py speaks the same protocol. Publishing is asynchronous: `publish` returns `submitted`
with the publish_id and `check_status` follows it (freepublish/get).

Exactly-once: everything before freepublish/submit is cached per publication key (uploaded media,
the draft media_id), so a retry re-uploads nothing; the submit itself is the only call whose
repetition would publish twice. Its answer (publish_id) is cached too, and an outcome-unknown
submit is read back by `recover` before anything is sent again. WeChat removes a draft from the
draft box once it is published (draft/get doc), so a second submit of the same draft fails
(40007) instead of publishing twice; `publish` reports that as outcome-unknown.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import structlog
from redis.asyncio import Redis

from channels.base import (
    AccountConfig,
    AccountMisconfiguredError,
    ArticleContent,
    Capabilities,
    CommentAction,
    CommentPage,
    CorrectionStrategy,
    LiveContent,
    OutcomeUnknownError,
    PermanentError,
    ProgressLog,
    PublishResult,
    RemoteComment,
    RenderedPost,
)
from channels.fetch import FetchPolicy, SafeFetcher, fetch_image, image_policy, sniff_image
from channels.http import TRANSPORT_ERRORS, transport_error
from channels.wechat.render import TITLE_MAX_CHARS, check_content_limits, render_article, replace_images
from channels.wechat.token import PLATFORM, Cache, MemoryCache, RedisCache, TokenManager, WeChatApi

log = structlog.get_logger(__name__)

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
# Per publication key: uploaded media, the draft media_id, the publish_id. Kept long enough for the
# reconciler to read back a stuck publication.
MEMO_KEY = "syn:wechat:pub:{app_id}:{key}"
MEMO_TTL_SECONDS = 30 * 86_400
# msg_data_id -> article_id of what this account published: the articles whose comments we poll.
COMMENT_PAGE = 49  # comment/list: "count >= 50 会被拒绝" (doc/service/api/leaving/api_listcomment)
# Each read starts this many comments before where the last one ended, and further back while the
# first comment it gets is unseen: comments deleted meanwhile (rejected ones) shift the offsets.
COMMENT_OVERLAP = 10
BATCHGET_PAGE = 20  # freepublish/batchget: count "取值在1到20之间"
RECOVER_SCAN_LIMIT = 200  # newest published items searched for a lost submit
DRAFT_GONE = "40007"  # invalid media_id: the draft is no longer in the draft box
STATUS_MEANINGS = {  # freepublish/get publish_status (doc/service/api/public/api_freepublish_get)
    2: "the original-content (原创) declaration failed",
    3: "publishing failed (常规失败; WeChat gives no reason)",
    4: "rejected by WeChat's platform review (平台审核不通过)",
    5: "deleted from the WeChat account after publishing",
    6: "blocked by WeChat after publishing",
}
WITHDRAWN_STATUSES = frozenset({5, 6})
# media/uploadimg: "仅支持jpg/png格式，大小必须在1MB以下"; the cover (permanent material): 2 MB
# (platforms.md §1.3, from a 2015 announcement). Judged from the bytes, capped while streaming.
UPLOADIMG_MAX_BYTES = 1024 * 1024
COVER_MAX_BYTES = 2 * 1024 * 1024
UPLOAD_TYPES = frozenset({"image/jpeg", "image/png"})


class WeChatAdapter:
    """One WeChat 公众号 (official account) by app id and secret.

    Corrections: the API cannot edit a published article, so `update` deletes it
    (freepublish/delete) and publishes the new version (REPUBLISH); the article gets a new URL.

    comments_premoderated=True holds only with the account's comment display set to 精选 (elected
    comments only) in the WeChat admin site: then a citizen's comment shows once we mark it elected
    (APPROVE = comment/markelect). The API itself has no pre-moderation switch; with any other
    display setting comments are public on arrival and REJECT (comment/delete) removes them.

    A publication whose articles were later deleted or blocked outside Syndicator (publish_status
    5/6) raises PermanentError with code "withdrawn_externally" from check_status.
    """

    capabilities = Capabilities(
        correction=CorrectionStrategy.REPUBLISH,
        can_withdraw=True,
        comments_premoderated=True,
        idempotent_publish=False,
        asynchronous_publish=True,
        comment_feed=False,
    )

    def __init__(
        self,
        *,
        account: AccountConfig,
        http: httpx.AsyncClient,
        redis: Redis | None,
        progress: ProgressLog | None = None,
    ) -> None:
        # The draft and submit record must outlive Redis: a flush would otherwise make recover()
        # believe a submitted draft was never made, and publish it twice.
        self._progress = progress
        if not account.app_id or not account.secret:
            raise AccountMisconfiguredError(
                f"WeChat account {account.name!r} lacks its app id (--app-id) or secret (--secret-env)",
                platform=PLATFORM,
            )
        base_url = account.api_base_url or DEFAULT_BASE_URL
        self._account = account
        self._app_id = account.app_id
        self._http = http
        self._fetcher = SafeFetcher(FetchPolicy(allow_loopback=account.fetch_allow_loopback))
        self._cache: Cache = RedisCache(redis) if redis is not None else MemoryCache()
        self._tokens = TokenManager(
            app_id=account.app_id, secret=account.secret, base_url=base_url, http=http, cache=self._cache
        )
        self._api = WeChatApi(base_url=base_url, http=http, tokens=self._tokens)

    def render(self, article: ArticleContent) -> RenderedPost:
        return render_article(article)

    async def publish(self, post: RenderedPost, key: str) -> PublishResult:
        _check_post(post)
        memo = await self._memo(key)
        if "publish_id" in memo:  # an earlier submit was answered: never submit again
            return _submitted(memo)
        draft_id = memo.get("draft") or await self._create_draft(post, key, memo)
        try:
            answer = await self._api.call("freepublish/submit", body={"media_id": draft_id}, idempotent=False)
        except PermanentError as exc:
            if exc.code == DRAFT_GONE and "draft" in memo:
                raise OutcomeUnknownError(
                    "the draft left the draft box: an earlier submit may have landed; recover first",
                    code=exc.code,
                    platform=PLATFORM,
                ) from exc
            raise
        await self._remember(
            key, publish_id=str(answer["publish_id"]), msg_data_id=str(answer.get("msg_data_id", ""))
        )
        log.info("wechat_publish_submitted", key=key, publish_id=answer["publish_id"], media_id=draft_id)
        return _submitted(await self._memo(key))

    async def recover(self, post: RenderedPost, key: str) -> PublishResult | None:
        memo = await self._memo(key)
        if "publish_id" in memo:
            return _submitted(memo)
        if "draft" not in memo:  # never reached draft/add: nothing can have been published
            return None
        found = await self._find_published(post, memo)
        if found is not None:
            await self._remember(key, article_id=found.remote_id)
            log.warning("wechat_publish_recovered", key=key, article_id=found.remote_id)
            return found
        if await self._draft_exists(memo["draft"]):
            return None  # the submit never landed: publishing again is safe
        raise OutcomeUnknownError(
            "the draft was submitted but is not (yet) among the published articles; read back later",
            platform=PLATFORM,
        )

    async def check_status(self, result: PublishResult) -> PublishResult:
        publish_id = result.details.get("publish_id")
        if not publish_id:  # found by recover through batchget: already published, no job to follow
            return result
        answer = await self._api.call("freepublish/get", body={"publish_id": publish_id})
        status = int(answer["publish_status"])
        if status == 1:  # 发布中
            return result
        if status == 0:
            return await self._published(answer, result)
        reason = STATUS_MEANINGS.get(status, f"unknown publish_status {status}")
        code = "withdrawn_externally" if status in WITHDRAWN_STATUSES else f"publish_status_{status}"
        log.warning("wechat_publish_failed", publish_id=publish_id, publish_status=status)
        raise PermanentError(
            f"{reason} (publish_id {publish_id}, failed articles {answer.get('fail_idx')})",
            code=code,
            platform=PLATFORM,
        )

    async def update(self, remote_id: str, post: RenderedPost, key: str) -> PublishResult:
        """REPUBLISH: delete the published article, then publish the new version under `key`."""
        await self.withdraw(remote_id)
        return await self.publish(post, key)

    async def withdraw(self, remote_id: str) -> None:
        # index 0 deletes every article of the publication (api_freepublishdelete); ours have one.
        await self._api.call("freepublish/delete", body={"article_id": remote_id, "index": 0})
        log.info("wechat_withdrawn", article_id=remote_id)

    async def fetch_live(self, remote_id: str) -> LiveContent | None:
        answer = await self._api.call("freepublish/getarticle", body={"article_id": remote_id})
        items = answer.get("news_item") or []
        if not items or items[0].get("is_deleted"):
            return None
        item = items[0]
        return LiveContent(
            remote_id=remote_id, title=item["title"], body=item["content"], url=item.get("url")
        )

    async def list_comments(self, cursor: str | None) -> CommentPage:
        """WeChat has no account-wide comment feed: comments are read per article."""
        raise PermanentError("WeChat comments are listed per article", code="no_feed", platform=PLATFORM)

    def comment_target(self, result: PublishResult) -> str | None:
        """What list_article_comments needs to address a published article: "msg_data_id/article_id"."""
        msg_data_id = result.details.get("msg_data_id")
        return f"{msg_data_id}/{result.remote_id}" if msg_data_id else None

    async def list_article_comments(self, target: str, cursor: str | None) -> CommentPage:
        """One page of comment/list on the article `target` (see comment_target), from an offset.

        The cursor is JSON {"begin": offset after the last comment read, "top": its
        user_comment_id}; comments come oldest first with growing ids (UNVERIFIED; so the emulator
        does). Re-read comments are deduplicated downstream. An article deleted outside Syndicator
        answers 88001 "msg_data is not exists", a PermanentError: its intake stops.
        """
        msg_data_id, _, article_id = target.partition("/")
        position = json.loads(cursor) if cursor else {}
        done, top = int(position.get("begin", 0)), int(position.get("top", 0))
        start = max(done - COMMENT_OVERLAP, 0)
        while True:
            raw = await self._comment_list(msg_data_id, start)
            if start == 0 or not raw or int(raw[0]["user_comment_id"]) <= top:
                break
            start = max(start - COMMENT_PAGE, 0)  # more were deleted than the overlap covers
        top = max([top, *(int(c["user_comment_id"]) for c in raw)])
        comments = [_comment(msg_data_id, article_id or msg_data_id, c) for c in raw]
        return CommentPage(comments=comments, cursor=json.dumps({"begin": start + len(raw), "top": top}))

    async def _comment_list(self, msg_data_id: str, begin: int) -> list[dict[str, Any]]:
        body = {"msg_data_id": _number(msg_data_id), "index": 0, "begin": begin, "count": COMMENT_PAGE}
        body["type"] = 0  # all comments, elected or not
        answer = await self._api.call("comment/list", body=body)
        return list(answer.get("comment") or [])

    async def moderate_comment(
        self, comment: RemoteComment, action: CommentAction, text: str | None = None
    ) -> None:
        target = {
            "msg_data_id": _number(comment.extra["msg_data_id"]),
            "index": int(comment.extra["index"]),
            "user_comment_id": _number(comment.extra["user_comment_id"]),
        }
        if action is CommentAction.APPROVE:
            await self._api.call("comment/markelect", body=target)
        elif action is CommentAction.REJECT:
            await self._api.call("comment/delete", body=target)
        elif not text:
            raise PermanentError("a reply needs text", code="empty_reply", platform=PLATFORM)
        else:
            await self._api.call("comment/reply/add", body={**target, "content": text}, idempotent=False)
        log.info("wechat_comment_moderated", comment_id=comment.remote_id, action=action.value)

    async def refresh_auth(self) -> None:
        await self._tokens.force_refresh()

    async def verify(self) -> None:
        """stable_token in normal mode: proves the app id and secret without invalidating any token."""
        await self._tokens.check()

    async def aclose(self) -> None:
        """The HTTP client and Redis belong to the worker, which closes them; the fetcher is ours."""
        await self._fetcher.aclose()

    # -- publishing steps ----------------------------------------------------------------------

    async def _create_draft(self, post: RenderedPost, key: str, memo: dict[str, str]) -> str:
        thumb_id = await self._cover(post, key, memo)
        hosted = {src: await self._rehost(src, post, key, memo) for src in post.images}
        content = replace_images(post.body, hosted)
        check_content_limits(content)  # hosted URLs differ in length from the portal's
        article = {
            "article_type": "news",
            "title": post.title,
            "digest": post.summary,
            "content": content,
            "content_source_url": post.link,  # 阅读原文 -> the portal
            "thumb_media_id": thumb_id,
            "need_open_comment": 1,
            "only_fans_can_comment": 0,
        }
        # A duplicate draft (outcome-unknown draft/add) is invisible and harmless: idempotent enough.
        answer = await self._api.call("draft/add", body={"articles": [article]})
        await self._remember(key, draft=str(answer["media_id"]))
        return str(answer["media_id"])

    async def _cover(self, post: RenderedPost, key: str, memo: dict[str, str]) -> str:
        source = post.images[0] if post.images else self._account.default_cover
        if not source:
            reason = "WeChat needs a cover image: the article has none and the account no --default-cover"
            raise AccountMisconfiguredError(reason, platform=PLATFORM)
        field = f"thumb:{source}"
        if field not in memo:
            media = await self._image(source, post, COVER_MAX_BYTES) if post.images else self._default_cover()
            answer = await self._api.call(
                "material/add_material", params={"type": "thumb"}, files={"media": media}
            )
            await self._remember(key, **{field: str(answer["media_id"])})
            memo[field] = str(answer["media_id"])
        return memo[field]

    async def _rehost(self, source: str, post: RenderedPost, key: str, memo: dict[str, str]) -> str:
        field = f"img:{source}"
        if field not in memo:
            media = await self._image(source, post, UPLOADIMG_MAX_BYTES)
            answer = await self._api.call("media/uploadimg", files={"media": media})
            await self._remember(key, **{field: str(answer["url"])})
            memo[field] = str(answer["url"])
        return memo[field]

    def _default_cover(self) -> tuple[str, bytes, str]:
        """The account's default cover: a file the operator configured (never one content names)."""
        path = Path(self._account.default_cover or "")
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = f"cover image {path.name!r} (--default-cover) unreadable: {exc.strerror}"
            raise AccountMisconfiguredError(reason, platform=PLATFORM) from exc
        return path.name, data, sniff_image(data) or "image/jpeg"

    async def _image(self, source: str, post: RenderedPost, max_bytes: int) -> tuple[str, bytes, str]:
        """An article image, through the safe fetcher: public hosts of the portal (or the account's
        image hosts) only, capped at WeChat's limit, JPEG/PNG by its bytes."""
        policy = image_policy(
            self._fetcher.policy, hosts=self._account.image_hosts, link=post.link, max_bytes=max_bytes
        )
        try:
            return await fetch_image(self._fetcher, source, policy=policy, types=UPLOAD_TYPES)
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, PLATFORM, what="image", idempotent=True) from exc

    # -- reading back --------------------------------------------------------------------------

    async def _published(self, answer: dict[str, Any], submitted: PublishResult) -> PublishResult:
        article_id = str(answer["article_id"])
        items = (answer.get("article_detail") or {}).get("item") or []
        details = {**submitted.details, "publish_id": str(answer["publish_id"]), "article_id": article_id}
        if not details.get("msg_data_id"):
            log.warning("wechat_comments_untracked", article_id=article_id, reason="no msg_data_id")
        url = str(items[0]["article_url"]) if items else None
        return PublishResult(remote_id=article_id, url=url, state="published", details=details)

    async def _find_published(self, post: RenderedPost, memo: dict[str, str]) -> PublishResult | None:
        """Our article among the newest published ones: its cover media_id was uploaded for this key."""
        thumbs = {value for field, value in memo.items() if field.startswith("thumb:")}
        for offset in range(0, RECOVER_SCAN_LIMIT, BATCHGET_PAGE):
            body = {"offset": offset, "count": BATCHGET_PAGE, "no_content": 1}
            page = await self._api.call("freepublish/batchget", body=body)
            for entry in page.get("item") or []:
                news = (entry.get("content") or {}).get("news_item") or [{}]
                if news[0].get("thumb_media_id") in thumbs and news[0].get("content_source_url") == post.link:
                    details = {"article_id": str(entry["article_id"]), "media_id": memo["draft"]}
                    return PublishResult(str(entry["article_id"]), url=news[0].get("url"), details=details)
            if offset + BATCHGET_PAGE >= int(page.get("total_count", 0)):
                return None
        return None

    async def _draft_exists(self, media_id: str) -> bool:
        try:
            await self._api.call("draft/get", body={"media_id": media_id})
        except PermanentError as exc:
            if exc.code == DRAFT_GONE:
                return False
            raise
        return True

    # -- memo ----------------------------------------------------------------------------------

    async def _memo(self, key: str) -> dict[str, str]:
        cached = await self._cache.hgetall(MEMO_KEY.format(app_id=self._app_id, key=key))
        if self._progress is None:
            return cached
        # After a Redis flush the cache holds only what was noted since: the durable record
        # holds the rest (a cache with a publish_id but no draft would otherwise look complete).
        return {**await self._progress.recall(key), **cached}

    async def _remember(self, key: str, **fields: str) -> None:
        if self._progress is not None:  # durable first: the cache is only a shortcut
            await self._progress.note(key, **fields)
        memo_key = MEMO_KEY.format(app_id=self._app_id, key=key)
        for field, value in fields.items():
            await self._cache.hset(memo_key, field, value, ttl=MEMO_TTL_SECONDS)


def _check_post(post: RenderedPost) -> None:
    if len(post.title) > TITLE_MAX_CHARS:
        reason = f"title longer than WeChat's {TITLE_MAX_CHARS} characters: {post.title!r}"
        raise PermanentError(reason, code="title_too_long", platform=PLATFORM)
    check_content_limits(post.body)


def _submitted(memo: dict[str, str]) -> PublishResult:
    details = {"media_id": memo["draft"], "publish_id": memo["publish_id"]}
    if memo.get("msg_data_id"):
        details["msg_data_id"] = memo["msg_data_id"]
    return PublishResult(remote_id=memo["publish_id"], state="submitted", details=details)


def _comment(msg_data_id: str, article_id: str, raw: dict[str, Any]) -> RemoteComment:
    comment_id = str(raw["user_comment_id"])
    return RemoteComment(
        remote_id=f"{msg_data_id}:0:{comment_id}",  # user_comment_id is unique per article only
        remote_article_id=article_id,
        author=str(raw.get("openid", "")),  # absent when the commenter used a non-WeChat identity
        content=str(raw["content"]),
        created_at=datetime.fromtimestamp(int(raw["create_time"]), UTC),
        extra={"msg_data_id": msg_data_id, "index": "0", "user_comment_id": comment_id},
    )


def _number(value: str) -> int | str:
    """comment/* document msg_data_id and user_comment_id as numbers."""
    return int(value) if value.isdigit() else value
