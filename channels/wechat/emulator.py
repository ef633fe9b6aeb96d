"""A local WeChat 公众号 API: the paths, parameters, JSON shapes and errcodes the adapter uses.

Every behaviour cites its source (see /work/shared/reference/platforms.md §1 for the full list);
what the docs leave open is marked UNVERIFIED and chosen to be the stricter case. State lives in
memory on `app.state.wechat`. Test controls live under /_emulator (never on the real API):
GET /_emulator/state, POST /_emulator/comments, POST /_emulator/articles/{id} (an edit or a deletion
on the admin site), POST /_emulator/publish_outcomes,
POST /_emulator/quota, and the shared fault routes (channels.faults).
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, UploadFile
from fastapi.responses import JSONResponse

from channels.faults import CONTROL_PREFIX, FaultInjectionMiddleware, FaultInjector, fault_control_router

# Token docs: getAccessToken (doc/service/en/Basic_Information/Get_access_token.html) and
# getStableAccessToken (doc/service/api/base/api_getstableaccesstoken).
TOKEN_OVERLAP_SECONDS = 300  # "刷新过程中…5分钟内，新老access_token都可用"
STABLE_RENEW_AHEAD_SECONDS = 300  # normal mode renews the stable token 5 minutes before expiry
STABLE_FORCE_INTERVAL_SECONDS = 30  # force mode: "≥30 s apart"
# draft/add field table (doc/service/api/draftbox/draftmanage/api_draft_add.md); codes from wechatpy
# constants.py: 45002 content / 45003 title / 45004 description size out of limit.
TITLE_MAX, CONTENT_MAX_CHARS, CONTENT_MAX_BYTES, DIGEST_MAX = 32, 20_000, 1_000_000, 120
_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.I | re.S)  # "此处会去除JS"
OK: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
_IMG = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"[^>]*>', re.I)


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        self.errcode, self.errmsg = errcode, errmsg


@dataclass
class EmulatorState:
    app_id: str
    app_secret: str
    publish_delay: float
    token_ttl: float
    clock: Callable[[], float]
    tokens: dict[str, float] = field(default_factory=dict)  # access_token -> expires at
    plain_token: str | None = None
    stable_token: str | None = None
    last_force: float = float("-inf")
    token_calls: dict[str, int] = field(default_factory=lambda: {"token": 0, "stable_token": 0})
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    hosted_images: list[str] = field(default_factory=list)
    drafts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # publish_id -> job
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)  # article_id -> article
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # msg_data_id -> comments
    submissions: list[dict[str, Any]] = field(default_factory=list)  # every accepted freepublish/submit
    outcomes: list[int] = field(default_factory=list)  # publish_status for the next publishes
    quota: dict[str, int] = field(default_factory=dict)  # path fragment -> calls left today
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(2247503051))

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(96)  # real tokens are long; "store >= 512 chars"
        self.tokens[token] = self.clock() + self.token_ttl
        return token

    def check_token(self, token: str | None) -> None:
        # errcodes: 41001 missing, 42001 expired, 40001 invalid / not latest (global return codes).
        if not token:
            raise WeChatError(41001, "access_token missing")
        if token not in self.tokens:
            raise WeChatError(40001, "invalid credential, access_token is invalid or not latest")
        if self.tokens[token] <= self.clock():
            raise WeChatError(42001, "access_token expired")

    def settle(self) -> None:
        """Finish the publish jobs whose delay has passed (publishing is asynchronous)."""
        for job in self.jobs.values():
            if job["status"] == 1 and job["ready_at"] <= self.clock():
                job["status"] = job.pop("outcome")
            if job["status"] == 0 and "article_id" not in job:
                job["article_id"] = article_id = f"art_{job['publish_id']}"
                job["url"] = url = f"https://mp.weixin.qq.com/s/{article_id}"
                items = [{**item, "url": url, "is_deleted": False} for item in job["articles"]]
                self.articles[article_id] = {"news_item": items, "update_time": int(self.clock())}
                self.comments.setdefault(job["msg_data_id"], [])


def create_app(
    *,
    app_id: str = "wx5e1c0a0d0e0f0a0b",
    app_secret: str = "emulator-app-secret",
    publish_delay_seconds: float = 0.2,
    token_ttl_seconds: float = 7200,
    clock: Callable[[], float] | None = None,
) -> FastAPI:
    state = EmulatorState(app_id, app_secret, publish_delay_seconds, token_ttl_seconds, clock or time.time)
    injector = FaultInjector()
    app = FastAPI(title="WeChat official account API emulator")
    app.state.wechat = state
    app.state.faults = injector
    app.add_middleware(FaultInjectionMiddleware, injector=injector)
    app.add_exception_handler(WeChatError, _error_answer)  # type: ignore[arg-type]  # Starlette types handlers for Exception, not the class they are added for
    app.include_router(_token_routes(state))
    app.include_router(_publish_routes(state))
    app.include_router(_comment_routes(state))
    app.include_router(_control_routes(state))
    app.include_router(fault_control_router(injector))
    return app


async def _error_answer(request: Request, exc: WeChatError) -> JSONResponse:
    # WeChat answers errors with HTTP 200 and {"errcode", "errmsg"} (platforms.md §1).
    return JSONResponse({"errcode": exc.errcode, "errmsg": exc.errmsg})


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise WeChatError(44002, "empty post data")  # wechatpy constants EMPTY_POST_DATA
    return body


Body = Annotated[dict[str, Any], Depends(_body)]


def _business_router(state: EmulatorState, prefix: str) -> APIRouter:
    """Every business call needs `?access_token=` and spends the day's quota of its API."""

    def authorize(request: Request) -> None:
        state.check_token(request.query_params.get("access_token"))
        for fragment, left in state.quota.items():
            if fragment in request.url.path:
                if left <= 0:  # 45009 "reach max api daily quota limit" (api_openarticlecomment page)
                    raise WeChatError(45009, "reach max api daily quota limit")
                state.quota[fragment] = left - 1

    return APIRouter(prefix=prefix, dependencies=[Depends(authorize)])


def _token_routes(state: EmulatorState) -> APIRouter:
    router = APIRouter(prefix="/cgi-bin")

    def check_app(appid: str | None, secret: str | None) -> None:
        if appid != state.app_id:
            raise WeChatError(40013, "invalid appid")
        if secret != state.app_secret:
            raise WeChatError(40001, "invalid credential, access_token is invalid or not latest")

    @router.get("/token")
    async def token(grant_type: str = "", appid: str = "", secret: str = "") -> dict[str, Any]:
        state.token_calls["token"] += 1
        check_app(appid, secret)
        if grant_type != "client_credential":
            raise WeChatError(40002, "invalid grant_type")  # wechatpy INVALID_CREDENTIAL_TYPE
        # "重复获取将导致上次获取的access_token失效", with a 5-minute overlap.
        if state.plain_token in state.tokens:
            old_expiry = state.tokens[state.plain_token]
            state.tokens[state.plain_token] = min(old_expiry, state.clock() + TOKEN_OVERLAP_SECONDS)
        state.plain_token = state.issue_token()
        return {"access_token": state.plain_token, "expires_in": int(state.token_ttl)}

    @router.post("/stable_token")
    async def stable_token(body: Body) -> dict[str, Any]:
        state.token_calls["stable_token"] += 1
        check_app(body.get("appid"), body.get("secret"))
        now = state.clock()
        current = state.stable_token
        if body.get("force_refresh"):
            if now - state.last_force < STABLE_FORCE_INTERVAL_SECONDS:
                raise WeChatError(45011, "api minute-quota reach limit")  # errcode UNVERIFIED
            state.last_force = now
            state.tokens.pop(current or "", None)  # force mode invalidates the previous token
        elif current and state.tokens.get(current, 0) - now > STABLE_RENEW_AHEAD_SECONDS:
            return {"access_token": current, "expires_in": int(state.tokens[current] - now)}
        # cgi-bin/token and stable_token are "完全隔离，互不影响": a new stable token leaves others alone.
        state.stable_token = state.issue_token()
        return {"access_token": state.stable_token, "expires_in": int(state.token_ttl)}

    return router


def _publish_routes(state: EmulatorState) -> APIRouter:
    router = _business_router(state, "/cgi-bin")

    async def upload(media: UploadFile, media_type: str) -> dict[str, Any]:
        await media.read()  # size limits are UNVERIFIED (platforms.md §1.3): not enforced
        media_id = f"media_{next(state.ids)}"
        url = f"http://mmbiz.qpic.cn/mmbiz_jpg/{media_id}/0"
        state.media[media_id] = {"type": media_type, "url": url, "filename": media.filename}
        return {"media_id": media_id, "url": url}

    @router.post("/material/add_material")  # multipart field "media" (wechatpy material.add)
    async def add_material(media: UploadFile, type: str) -> dict[str, Any]:
        if type not in ("image", "thumb", "voice", "video"):
            raise WeChatError(40004, "invalid media type")
        return await upload(media, type)

    @router.post("/media/uploadimg")  # returns only the URL (wechatpy media.upload_image)
    async def uploadimg(media: UploadFile) -> dict[str, Any]:
        answer = await upload(media, "content_image")
        state.hosted_images.append(answer["url"])
        return {"url": answer["url"]}

    @router.post("/draft/add")
    async def draft_add(body: Body) -> dict[str, Any]:
        articles = body.get("articles")
        if not isinstance(articles, list) or not 1 <= len(articles) <= 8:  # at most 8 per draft
            raise WeChatError(44002, "empty post data")
        media_id = f"draft_{next(state.ids)}"
        state.drafts[media_id] = [_validated(state, article) for article in articles]
        return {"media_id": media_id}

    @router.post("/draft/get")
    async def draft_get(body: Body) -> dict[str, Any]:
        return {"news_item": _known(state.drafts, body.get("media_id"))}

    @router.post("/freepublish/submit")
    async def submit(body: Body) -> dict[str, Any]:
        media_id = body.get("media_id", "")
        articles = _known(state.drafts, media_id)
        del state.drafts[media_id]  # "Draft removed from box once 发布" (draft/get doc)
        publish_id, msg_data_id = str(next(state.ids)), str(next(state.ids))
        outcome = state.outcomes.pop(0) if state.outcomes else 0
        state.jobs[publish_id] = {
            "publish_id": publish_id, "msg_data_id": msg_data_id, "media_id": media_id, "articles": articles,
            "status": 1, "outcome": outcome, "ready_at": state.clock() + state.publish_delay,
        }  # fmt: skip
        title = articles[0]["title"]
        state.submissions.append({"publish_id": publish_id, "media_id": media_id, "title": title})
        # errcode 0 only means "accepted"; the outcome arrives later (api_freepublish_submit).
        return {**OK, "publish_id": publish_id, "msg_data_id": msg_data_id}

    @router.post("/freepublish/get")
    async def publish_get(body: Body) -> dict[str, Any]:
        state.settle()
        job = _known(state.jobs, str(body.get("publish_id")))
        if job["status"] != 0:
            failed = [1] if job["status"] in (2, 4) else []  # fail_idx "当发布状态为2或4时"
            return {"publish_id": job["publish_id"], "publish_status": job["status"], "fail_idx": failed}
        article = state.articles[job["article_id"]]
        deleted = all(item["is_deleted"] for item in article["news_item"])
        detail = {"count": 1, "item": [{"idx": 1, "article_url": job["url"]}]}
        status = {"publish_id": job["publish_id"], "publish_status": 5 if deleted else 0}
        return {**status, "article_id": job["article_id"], "article_detail": detail, "fail_idx": []}

    @router.post("/freepublish/batchget")
    async def batchget(body: Body) -> dict[str, Any]:
        state.settle()
        offset, count = int(body.get("offset", 0)), int(body.get("count", 0))
        if not 1 <= count <= 20:  # "取值在1到20之间"; errcode UNVERIFIED
            raise WeChatError(40097, "invalid args")
        live = [(aid, a) for aid, a in state.articles.items() if not a["news_item"][0]["is_deleted"]]
        live.reverse()  # newest first (UNVERIFIED; the adapter does not rely on it)
        drop = "content" if body.get("no_content") else ""
        items = []
        for aid, article in live[offset : offset + count]:
            news = [{k: v for k, v in item.items() if k != drop} for item in article["news_item"]]
            items.append(
                {"article_id": aid, "content": {"news_item": news}, "update_time": article["update_time"]}
            )
        return {"total_count": len(live), "item_count": len(items), "item": items}

    @router.post("/freepublish/getarticle")
    async def getarticle(body: Body) -> dict[str, Any]:
        state.settle()
        return {"news_item": _known(state.articles, body.get("article_id"))["news_item"]}

    @router.post("/freepublish/delete")
    async def delete(body: Body) -> dict[str, Any]:
        items = _known(state.articles, body.get("article_id"))["news_item"]
        index = int(body.get("index") or 0)  # 1-based; 0 or absent deletes all (api_freepublishdelete)
        for position, item in enumerate(items, start=1):
            if index in (0, position):
                item["is_deleted"] = True
        return OK

    return router


def _validated(state: EmulatorState, article: dict[str, Any]) -> dict[str, Any]:
    title, content = str(article.get("title") or ""), str(article.get("content") or "")
    if not title or not content:
        raise WeChatError(44002, "empty post data")
    if len(title) > TITLE_MAX:
        raise WeChatError(45003, "title size out of limit")
    if len(content) >= CONTENT_MAX_CHARS or len(content.encode()) >= CONTENT_MAX_BYTES:
        raise WeChatError(45002, "content size out of limit")
    if len(str(article.get("digest") or "")) > DIGEST_MAX:
        raise WeChatError(45004, "description size out of limit")
    thumb = state.media.get(str(article.get("thumb_media_id")))
    if article.get("article_type", "news") == "news" and (
        thumb is None or thumb["type"] not in ("thumb", "image")
    ):
        raise WeChatError(40007, "invalid media_id")  # thumb_media_id "必须是永久MediaID"
    content = _SCRIPT.sub("", content)
    # External image URLs are filtered; only media/uploadimg URLs survive (draft/get doc).
    content = _IMG.sub(lambda m: m.group(0) if m.group(1) in state.hosted_images else "", content)
    return {**article, "content": content, "thumb_url": thumb["url"] if thumb else ""}


def _known(items: dict[str, Any], key: Any) -> Any:
    if key not in items:  # 40007 for a draft; for an unknown publish_id / article_id UNVERIFIED
        raise WeChatError(40007, "invalid media_id")
    return items[key]


def _deleted(state: EmulatorState, job: dict[str, Any]) -> bool:
    article = state.articles.get(str(job.get("article_id")))
    return article is not None and all(item["is_deleted"] for item in article["news_item"])


def _comment_routes(state: EmulatorState) -> APIRouter:
    """comment/list|markelect|unmarkelect|delete|reply/add|reply/delete (doc/service/api/leaving/)."""
    router = _business_router(state, "/cgi-bin/comment")

    def thread(body: dict[str, Any]) -> list[dict[str, Any]]:
        comments = state.comments.get(str(body.get("msg_data_id")))
        if comments is None or int(body.get("index") or 0) != 0:  # index is 0-based; one article each
            raise WeChatError(88001, "msg_data is not exists")
        wanted = str(body.get("msg_data_id"))
        if any(_deleted(state, job) for job in state.jobs.values() if str(job["msg_data_id"]) == wanted):
            raise WeChatError(88001, "msg_data is not exists")  # a deleted article's comments are gone too
        return comments

    @router.post("/list")
    async def list_comments(body: Body) -> dict[str, Any]:
        begin, count, kind = int(body.get("begin", 0)), int(body.get("count", 0)), int(body.get("type", 0))
        if not 0 < count < 50:  # "count >= 50 会被拒绝"; errcode UNVERIFIED
            raise WeChatError(40097, "invalid args")
        wanted = {0: (0, 1), 1: (0,), 2: (1,)}[kind]  # type 0 all, 1 normal, 2 elected
        shown = [c for c in thread(body) if not c["deleted"] and c["comment_type"] in wanted]
        page = [{k: v for k, v in c.items() if k != "deleted"} for c in shown[begin : begin + count]]
        return {**OK, "total": len(shown), "comment": page}

    @router.post("/{action:path}")
    async def act(action: str, body: Body) -> dict[str, Any]:
        wanted = int(body.get("user_comment_id") or 0)
        found = [c for c in thread(body) if c["user_comment_id"] == wanted and not c["deleted"]]
        if not found:
            raise WeChatError(88008, "comment is not exists")  # errcode UNVERIFIED
        comment = found[0]
        if action in ("markelect", "unmarkelect"):
            comment["comment_type"] = 1 if action == "markelect" else 0
        elif action == "delete":
            comment["deleted"] = True
        elif action == "reply/add":
            comment["reply"] = {"content": str(body.get("content", "")), "create_time": int(state.clock())}
        elif action == "reply/delete":
            comment.pop("reply", None)
        else:
            raise WeChatError(40066, "invalid url")
        return OK

    return router


def _control_routes(state: EmulatorState) -> APIRouter:
    router = APIRouter(prefix=CONTROL_PREFIX, include_in_schema=False)

    @router.get("/state")
    async def snapshot() -> dict[str, Any]:
        state.settle()
        return {
            "token_calls": state.token_calls,
            "submissions": state.submissions,
            "drafts": {media_id: [a["title"] for a in arts] for media_id, arts in state.drafts.items()},
            "articles": {aid: a["news_item"] for aid, a in state.articles.items()},
            "media": state.media,
            "hosted_images": state.hosted_images,
            "comments": state.comments,
            "visible_comments": {  # with the account showing only 精选 comments
                mid: [c["content"] for c in cs if c["comment_type"] == 1 and not c["deleted"]]
                for mid, cs in state.comments.items()
            },
        }

    @router.post("/comments")  # a citizen comments: {msg_data_id, content, openid?, create_time?}
    async def seed_comment(body: Body) -> dict[str, int]:
        comments = state.comments.setdefault(str(body["msg_data_id"]), [])
        comment_id, created = len(comments) + 1, int(body.get("create_time", state.clock()))
        comment = {"user_comment_id": comment_id, "create_time": created, "content": body["content"]}
        comments.append(
            {**comment, "comment_type": 0, "openid": body.get("openid", "oUser"), "deleted": False}
        )
        return {"user_comment_id": comment_id}

    @router.post("/articles/{article_id}")  # an edit {content} or deletion {is_deleted} on the admin site
    async def edit_on_admin_site(article_id: str, body: Body) -> dict[str, str]:
        state.settle()
        for item in _known(state.articles, article_id)["news_item"]:
            item.update({k: body[k] for k in ("title", "content", "is_deleted") if k in body})
        return {"status": "ok"}

    @router.post("/publish_outcomes")  # {statuses: [3, ...]}: how the next publish jobs end
    async def script_outcomes(body: Body) -> dict[str, str]:
        state.outcomes.extend(int(status) for status in body["statuses"])
        return {"status": "ok"}

    @router.post("/quota")  # {path, remaining}: calls left today before 45009
    async def set_quota(body: Body) -> dict[str, str]:
        state.quota[str(body["path"])] = int(body["remaining"])
        return {"status": "ok"}

    return router
