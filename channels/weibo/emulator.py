"""A local Sina Weibo open API (api.weibo.com/2/…) for the tests, the demo and rehearsals.

Speaks the wire protocol the adapter uses: the same paths, form/query parameters, JSON shapes
and error bodies `{"request": "/2/…", "error_code": N, "error": "…"}` (open.weibo.com/wiki/Error_code,
codes from the copy in small-tou/Rabbit.js node_modules/snserror/index.js). HTTP statuses follow
open.weibo.com/wiki/Help/error: 400 for invalid requests *and* rate limits, 401 for auth,
500/503 for system errors. One authorised user (the unit's account), state in memory on
`app.state.weibo`; `/_emulator/…` routes seed citizen comments, expose every successful share
(`GET /_emulator/state`) and steer faults (channels.faults).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Receive, Scope, Send

from channels import urls as whatwg
from channels.faults import CONTROL_PREFIX, FaultInjectionMiddleware, FaultInjector, fault_control_router

Clock = Callable[[], datetime]
BEIJING = timezone(timedelta(hours=8))
MAX_PIC_BYTES = 5 * 1024 * 1024  # share.json: pic "< 5M" (open.weibo.com/wiki/2/statuses/share)
PIC_MAGIC = (b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"\x89PNG\r\n\x1a\n")  # JPEG, GIF, PNG only
AUTH_CODES = frozenset({21301, 21315, 21327, 21332})
HTTP_STATUS = {10001: 500, 10002: 503, 10009: 503, 10014: 403}  # everything else: 400 or 401

# The emulator's own reading of Weibo's length rule, written apart from the adapter's
# (channels/weibo/text.py) so that a counting bug there shows up as a refused share here.
# It follows the counter copied around from weibo.com's share box (non-Latin-1 -> "**", then /2):
# each link becomes a 20-character t.cn placeholder (a link over 140 bytes keeps its excess), then
# in the UTF-16 string every code unit above U+00FF weighs two half characters, the rest one, and
# the half characters are rounded up (an emoji, two code units, counts 2; "ab" 1; "abc" 2).
MAX_TEXT = 140
LINK_PLACEHOLDER = "x" * 20
LINK_FREE_BYTES = 140
LINK = re.compile(r"https?://[a-zA-Z0-9.\-]+(:[0-9]+)?([/?#][a-zA-Z0-9\-._~!$&()*+,/:=?@#%]*)?")
TOPIC = re.compile(r"#[^#\s]{1,64}#")  # share.json refuses a #话题词#


def status_length(text: str) -> int:
    """How long Weibo judges a status: what share.json compares with its 140."""
    placeholders = LINK.sub(
        lambda m: LINK_PLACEHOLDER + "x" * max(0, len(m[0].encode()) - LINK_FREE_BYTES), text
    )
    code_units = placeholders.encode("utf-16-le")
    half_chars = sum(1 if code_units[i + 1] == 0 else 2 for i in range(0, len(code_units), 2))
    return -(-half_chars // 2)


class WeiboApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Status:
    id: int
    text: str  # as shown: links rewritten to t.cn
    original: str  # as sent, for repeated-content detection
    created_at: datetime
    pic: str | None = None
    deleted: bool = False


@dataclass
class Comment:
    id: int
    status_id: int
    author: str
    author_uid: int
    text: str
    created_at: datetime
    reply_to: int | None = None


@dataclass
class WeiboState:
    access_token: str
    uid: int
    safe_domains: tuple[str, ...]
    hourly_limit: int
    token_expires_at: datetime | None
    clock: Clock
    screen_name: str = "政务微博"
    statuses: dict[int, Status] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    shares: list[dict[str, Any]] = field(default_factory=list)
    share_hits: dict[datetime, int] = field(default_factory=dict)
    # Every API call received (path), faults included: tests count what reached the platform.
    requests: list[str] = field(default_factory=list)
    # Weibo ids are 16-digit, time-ordered integers; since_id/max_id paging relies on the order.
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(4_900_000_000_000_001))

    def next_id(self) -> int:
        return next(self.ids)


class SeedComment(BaseModel):
    status_id: str
    text: str
    author: str = "市民"
    author_uid: int = 6_000_000_001


def create_app(
    *,
    access_token: str = "emulator-token",
    uid: int = 5_000_000_001,
    safe_domains: tuple[str, ...] = ("gov.cn",),
    # "发微博接口单授权用户每小时 30 次" (open.weibo.com/wiki/Rate-limiting, revision 16512)
    hourly_limit: int = 30,
    # Token lifetime depends on the app's level (授权机制说明, copy at m.php.cn/zh-tw/php/
    # php-Authorization-mechanism.html: up to 30 days; 5 years for the developer's own account);
    # 7 days is a stand-in. None: never expires.
    token_ttl_seconds: float | None = 7 * 24 * 3600,
    clock: Clock | None = None,
) -> FastAPI:
    now = clock or (lambda: datetime.now(UTC))
    expires = now() + timedelta(seconds=token_ttl_seconds) if token_ttl_seconds is not None else None
    app = FastAPI(title="Weibo emulator")
    app.state.weibo = WeiboState(access_token, uid, safe_domains, hourly_limit, expires, now)
    injector = FaultInjector()
    app.state.faults = injector
    app.add_middleware(FaultInjectionMiddleware, injector=injector)
    app.add_middleware(RequestLog, state=app.state.weibo)  # outermost: sees injected answers too
    app.include_router(fault_control_router(injector))
    app.add_exception_handler(WeiboApiError, _error_answer)  # type: ignore[arg-type]  # Starlette types handlers for Exception, not the class they are added for
    _add_status_routes(app)
    _add_comment_routes(app)
    _add_control_routes(app)
    return app


class RequestLog:
    """Notes the path of every API call (not the /_emulator control routes)."""

    def __init__(self, app: ASGIApp, state: WeiboState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(CONTROL_PREFIX):
            self.state.requests.append(scope["path"])
        await self.app(scope, receive, send)


async def _error_answer(request: Request, exc: WeiboApiError) -> JSONResponse:
    status = HTTP_STATUS.get(exc.code, 401 if exc.code in AUTH_CODES else 400)
    body = {"request": request.url.path, "error_code": exc.code, "error": exc.message}
    return JSONResponse(body, status_code=status)


async def _params(request: Request) -> dict[str, Any]:
    """Query and form parameters together; checks the access token like every Weibo call."""
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        async with request.form() as form:  # closes uploaded files' temporary storage
            for name, value in form.multi_items():
                params[name] = await value.read() if isinstance(value, UploadFile) else value
    state: WeiboState = request.app.state.weibo
    token = params.get("access_token")
    if not token:
        raise WeiboApiError(10006, "source paramter (appkey) is missing")
    if token != state.access_token:
        raise WeiboApiError(21332, "invalid_access_token")
    if state.token_expires_at is not None and state.clock() >= state.token_expires_at:
        raise WeiboApiError(21327, "expired_token")
    return params


def _required(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise WeiboApiError(10016, f"Miss required parameter ({name}) , see doc for more info")
    return value


def _int(params: dict[str, Any], name: str, default: int = 0) -> int:
    try:
        return int(params.get(name) or default)
    except ValueError as exc:
        raise WeiboApiError(10017, f"Parameter ({name})'s value invalid, see doc for more info") from exc


def _weibo_time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%a %b %d %H:%M:%S %z %Y")  # "Tue May 31 17:46:55 +0800 2011"


def _short_link(url: str) -> str:
    # Weibo shows every link in a status as a t.cn short link, hence the fixed URL cost and the
    # t.cn special case in WeCase/WeCase src/TweetUtils.py.
    return "http://t.cn/" + hashlib.sha1(url.encode()).hexdigest()[:8]


def _user(state: WeiboState) -> dict[str, Any]:
    return {"id": state.uid, "idstr": str(state.uid), "screen_name": state.screen_name}


def _status_json(state: WeiboState, status: Status) -> dict[str, Any]:
    body: dict[str, Any] = {
        "created_at": _weibo_time(status.created_at),
        "id": status.id,
        "idstr": str(status.id),
        "mid": str(status.id),
        "text": status.text,
        "source": "Syndicator",
        "user": _user(state),
        "comments_count": sum(1 for c in state.comments.values() if c.status_id == status.id),
    }
    if status.pic:
        body |= {"thumbnail_pic": status.pic, "bmiddle_pic": status.pic, "original_pic": status.pic}
    return body


def _comment_json(state: WeiboState, comment: Comment) -> dict[str, Any]:
    body: dict[str, Any] = {
        "created_at": _weibo_time(comment.created_at),
        "id": comment.id,
        "idstr": str(comment.id),
        "mid": str(comment.id),
        "text": comment.text,
        "user": {"id": comment.author_uid, "idstr": str(comment.author_uid), "screen_name": comment.author},
        "status": _status_json(state, state.statuses[comment.status_id]),
    }
    if comment.reply_to in state.comments:
        body["reply_comment"] = {"id": comment.reply_to, "idstr": str(comment.reply_to)}
    return body


def _page(items: list[Any], params: dict[str, Any]) -> list[Any]:
    """since_id / max_id / count (default 50) / page (default 1), newest first — comments/show."""
    since_id, max_id = _int(params, "since_id"), _int(params, "max_id")
    count, page = min(_int(params, "count", 50), 200), max(_int(params, "page", 1), 1)
    chosen = [i for i in items if i.id > since_id and (not max_id or i.id <= max_id)]
    chosen.sort(key=lambda item: item.id, reverse=True)
    return chosen[count * (page - 1) : count * page]


def _live_status(state: WeiboState, params: dict[str, Any], name: str = "id") -> Status:
    status = state.statuses.get(_int(params, name))
    if status is None or status.deleted:
        raise WeiboApiError(20101, "Target weibo does not exist!")
    return status


def _check_share_text(state: WeiboState, text: str) -> None:
    if status_length(text) > MAX_TEXT:
        raise WeiboApiError(20012, "Text too long, please input text less than 140 characters!")
    if TOPIC.search(text):  # share.json: status must not contain #话题词#; exact code UNVERIFIED
        raise WeiboApiError(10017, "Parameter (status)'s value invalid, topic (#…#) not allowed")
    urls = [match[0] for match in LINK.finditer(text)]
    if any(not _safe(state, url) for url in urls):  # a foreign link: 20018 包含非法网址
        raise WeiboApiError(20018, "contain illegal website!")
    if not urls:  # observed answer without a safe-domain URL (xiaosier/libweibo#22)
        raise WeiboApiError(10017, "text not find domain!")
    if any(s.original == text and not s.deleted for s in state.statuses.values()):
        raise WeiboApiError(20019, "repeat content!")  # 提交相同的信息


def _safe(state: WeiboState, url: str) -> bool:
    return any(whatwg.on_domain(whatwg.host_of(url), domain) for domain in state.safe_domains)


def _check_pic(data: Any) -> bytes | None:
    if not isinstance(data, bytes):
        return None
    if len(data) >= MAX_PIC_BYTES:
        raise WeiboApiError(20006, "Image size too large")
    if not data.startswith(PIC_MAGIC):
        raise WeiboApiError(20005, "Unsupported image type, only suport JPG, GIF, PNG")
    return data


def _count_share(state: WeiboState) -> None:
    hour = state.clock().replace(minute=0, second=0, microsecond=0)
    if state.share_hits.get(hour, 0) >= state.hourly_limit:
        raise WeiboApiError(10024, "User requests for (/statuses/share) out of rate limit")
    state.share_hits[hour] = state.share_hits.get(hour, 0) + 1


def _add_status_routes(app: FastAPI) -> None:
    @app.post("/2/statuses/share.json")
    async def share(request: Request) -> dict[str, Any]:
        params = await _params(request)
        state: WeiboState = request.app.state.weibo
        text = str(_required(params, "status"))
        rip = _required(params, "rip")  # the operating user's real IP, required on the current page
        _count_share(state)  # the gateway counts the call whatever its outcome
        _check_share_text(state, text)
        pic = _check_pic(params.get("pic"))
        shown = LINK.sub(lambda match: _short_link(match.group()), text)
        status = Status(state.next_id(), shown, text, state.clock())
        if pic is not None:
            status.pic = f"https://wx1.sinaimg.cn/large/{hashlib.sha1(pic).hexdigest()[:20]}.jpg"
        state.statuses[status.id] = status
        state.shares.append({"id": str(status.id), "status": text, "rip": rip, "pic_bytes": len(pic or b"")})
        return _status_json(state, status)

    @app.post("/2/statuses/destroy.json")
    async def destroy(request: Request) -> dict[str, Any]:
        params = await _params(request)
        status = _live_status(request.app.state.weibo, params)
        status.deleted = True
        return _status_json(request.app.state.weibo, status)

    @app.get("/2/statuses/show.json")
    async def show(request: Request) -> dict[str, Any]:
        params = await _params(request)
        return _status_json(request.app.state.weibo, _live_status(request.app.state.weibo, params))

    @app.get("/2/statuses/user_timeline.json")
    async def user_timeline(request: Request) -> dict[str, Any]:
        params = await _params(request)
        state: WeiboState = request.app.state.weibo
        if params.get("uid") and _int(params, "uid") != state.uid:
            raise WeiboApiError(10014, "Insufficient app permissions!")  # only the authorised user's own
        live = [s for s in state.statuses.values() if not s.deleted]
        statuses = [_status_json(state, s) for s in _page(live, params)]
        return {"statuses": statuses, "total_number": len(live), "previous_cursor": 0, "next_cursor": 0}

    @app.get("/2/account/rate_limit_status.json")
    async def rate_limit_status(request: Request) -> dict[str, Any]:
        await _params(request)
        state: WeiboState = request.app.state.weibo
        now = state.clock()
        hour = now.replace(minute=0, second=0, microsecond=0)
        reset = hour + timedelta(hours=1)
        remaining = max(state.hourly_limit - state.share_hits.get(hour, 0), 0)
        # Fields from open.weibo.com/wiki/2/account/rate_limit_status/en; reset_time_in_seconds
        # is the time left until the hourly window resets.
        return {
            "ip_limit": 10000,
            "limit_time_unit": "HOURS",
            "remaining_ip_hits": 10000,
            "remaining_user_hits": remaining,
            "reset_time": reset.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "reset_time_in_seconds": int((reset - now).total_seconds()),
            "user_limit": state.hourly_limit,
        }


def _own_comment(state: WeiboState, params: dict[str, Any]) -> Comment:
    comment = state.comments.get(_int(params, "cid"))
    if comment is None:
        raise WeiboApiError(20201, "Target weibo comment does not exist!")
    return comment


def _comment_list(state: WeiboState, found: list[Comment], params: dict[str, Any]) -> dict[str, Any]:
    return {"comments": [_comment_json(state, c) for c in _page(found, params)], "total_number": len(found)}


def _add_comment_routes(app: FastAPI) -> None:
    @app.get("/2/comments/show.json")
    async def comments_show(request: Request) -> dict[str, Any]:
        params = await _params(request)
        state: WeiboState = request.app.state.weibo
        status = _live_status(state, params)
        found = [c for c in state.comments.values() if c.status_id == status.id]
        return _comment_list(state, found, params)

    @app.get("/2/comments/to_me.json")
    async def comments_to_me(request: Request) -> dict[str, Any]:
        params = await _params(request)
        state: WeiboState = request.app.state.weibo
        # Comments received on the user's statuses, the user's own replies excluded.
        found = [c for c in state.comments.values() if c.author_uid != state.uid]
        return _comment_list(state, found, params)

    @app.post("/2/comments/destroy.json")
    async def comments_destroy(request: Request) -> dict[str, Any]:
        params = await _params(request)
        state: WeiboState = request.app.state.weibo
        comment = _own_comment(state, params)
        body = _comment_json(state, comment)
        del state.comments[comment.id]  # "only comments on statuses posted by the login user"
        return body

    @app.post("/2/comments/reply.json")
    async def comments_reply(request: Request) -> dict[str, Any]:
        params = await _params(request)
        state: WeiboState = request.app.state.weibo
        text, _rip = str(_required(params, "comment")), _required(params, "rip")
        target = _own_comment(state, params)
        if status_length(text) > MAX_TEXT:
            raise WeiboApiError(20012, "Text too long, please input text less than 140 characters!")
        if params.get("without_mention") != "1":  # 0 (default) adds "回复@用户名:"
            text = f"回复@{target.author}:{text}"
        status = _live_status(state, params)
        reply = Comment(state.next_id(), status.id, state.screen_name, state.uid, text, state.clock())
        reply.reply_to = target.id
        state.comments[reply.id] = reply
        return _comment_json(state, reply)


def _add_control_routes(app: FastAPI) -> None:
    @app.post(f"{CONTROL_PREFIX}/comments")
    async def seed_comment(request: Request, seed: SeedComment) -> dict[str, Any]:
        state: WeiboState = request.app.state.weibo
        status = _live_status(state, {"id": seed.status_id})
        comment = Comment(state.next_id(), status.id, seed.author, seed.author_uid, seed.text, state.clock())
        state.comments[comment.id] = comment
        return _comment_json(state, comment)

    @app.get(f"{CONTROL_PREFIX}/state")
    async def emulator_state(request: Request) -> dict[str, Any]:
        state: WeiboState = request.app.state.weibo
        return {
            "shares": state.shares,
            "statuses": [_status_json(state, s) | {"deleted": s.deleted} for s in state.statuses.values()],
            "comments": [_comment_json(state, c) for c in state.comments.values()],
            "requests": state.requests,
        }
