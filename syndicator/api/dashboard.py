"""The officers' web dashboard (server-rendered, no build step): sign-in, report, sign-out.

Sign-in is by user name + API token (the credential this system issues), rate-limited per user and
address. The session is a server-side record (sessions.py) named by a signed, HttpOnly, SameSite=Strict
cookie; sign-out, token revocation and any role or scope change end it. Forms carry a CSRF token bound
to the session (double submit before sign-in).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from syndicator import audit
from syndicator.api.deps import ApiState, StateDep, client_address
from syndicator.models import Role, User
from syndicator.obligations import live, sessions
from syndicator.obligations.clock import shanghai
from syndicator.obligations.config import from_settings
from syndicator.obligations.export import LEVEL_NAMES, PLATFORM_NAMES, STATUS_NAMES
from syndicator.obligations.pages import PageFilters, chart, last_month, page_data
from syndicator.obligations.scope import ScopeError, is_officer
from syndicator.obligations.sessions import Viewer

router = APIRouter(prefix="/dashboard", include_in_schema=False)
SESSION_COOKIE = "syn_dashboard"
CSRF_COOKIE = "syn_dashboard_csrf"
SECURITY_HEADERS = {
    # Scripts only from our own files (no inline code); fetch only back to us.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
TEMPLATES = Path(
    os.environ.get("SYNDICATOR_TEMPLATES_DIR", Path(__file__).resolve().parents[2] / "templates")
)
jinja = Environment(
    loader=FileSystemLoader(TEMPLATES / "dashboard"), autoescape=select_autoescape(["j2", "html"])
)
jinja.filters["bj"] = shanghai
jinja.globals.update(
    status_names=STATUS_NAMES,
    level_names=LEVEL_NAMES,
    platform_names=PLATFORM_NAMES,
    band_names=live.BAND_NAMES,
)


def sign(secret: bytes, payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    mac = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def unsign(secret: bytes, value: str | None, *, max_age: float) -> dict[str, Any] | None:
    if not value or "." not in value:
        return None
    body, _, mac = value.rpartition(".")
    if not hmac.compare_digest(mac, hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()):
        return None
    try:
        payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return None
    return payload if time.time() - float(payload.get("iat", 0)) <= max_age else None


def render_page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(
        jinja.get_template(template).render(**context), status_code=status, headers=SECURITY_HEADERS
    )


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        path="/dashboard",
        secure=request.url.scheme == "https",
    )


async def _key(request: Request, api: ApiState) -> bytes:
    """The cookie signing key, looked up once per app (it may live in the database)."""
    key: bytes | None = getattr(request.app.state, "dashboard_key", None)
    if key is None:
        key = await sessions.signing_key(api.settings, api.db)
        request.app.state.dashboard_key = key
    return key


# Who may sign in: officers see the compliance desk; editors and reviewers the preview page.
DESK_ROLES = frozenset({Role.OFFICER, Role.ADMIN, Role.EDITOR, Role.REVIEWER})
PREVIEW_ROLES = frozenset({Role.ADMIN, Role.EDITOR, Role.REVIEWER})


def home_of(user: User) -> str:
    return "/dashboard" if is_officer(user) else "/dashboard/preview"


async def current_viewer(request: Request, api: StateDep) -> Viewer | None:
    """The signed-in user of any desk role (sessions.resolve ends stale sessions)."""
    config = from_settings(api.settings)
    payload = unsign(
        await _key(request, api),
        request.cookies.get(SESSION_COOKIE),
        max_age=config.session_max_age.total_seconds(),
    )
    if payload is None or not isinstance(payload.get("sid"), str):
        return None
    async with api.db.transaction() as session:
        viewer = await sessions.resolve(session, payload["sid"])
    if viewer is None or not viewer.user.role_set & DESK_ROLES:
        return None
    return viewer


AnyViewerDep = Annotated[Viewer | None, Depends(current_viewer)]


async def current_user(viewer: AnyViewerDep) -> Viewer | None:
    """The signed-in officer (compliance pages); None for anyone else."""
    return viewer if viewer is not None and is_officer(viewer.user) else None


ViewerDep = Annotated[Viewer | None, Depends(current_user)]


@router.get("/login")
async def login_form(request: Request, api: StateDep, error: str | None = None) -> Response:
    csrf = secrets.token_urlsafe(24)
    response = render_page("login.html.j2", csrf=csrf, error=error)
    _cookie(
        response,
        request,
        CSRF_COOKIE,
        sign(await _key(request, api), {"csrf": csrf, "iat": time.time()}),
        3600,
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    api: StateDep,
    name: Annotated[str, Form()],
    token: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    config = from_settings(api.settings)
    issued = unsign(await _key(request, api), request.cookies.get(CSRF_COOKIE), max_age=3600)
    if issued is None or not hmac.compare_digest(str(issued.get("csrf")), csrf):
        return render_page("login.html.j2", 403, csrf="", error="页面已过期，请刷新后重新登录。")
    name, address = name.strip(), client_address(request)
    if api.redis is None:  # no counter, no sign-in: guessing must stay bounded
        return await _retry_login(request, api, 503, "暂时无法登录（限流服务不可用），请稍后再试。")
    throttle = sessions.LoginThrottle(api.redis, sessions.LoginLimits.from_settings(api.settings))
    if await throttle.blocked(name, address):
        async with api.db.transaction() as session:
            audit.record(
                session,
                actor=f"user:{name}",
                action="dashboard.throttled",
                object_type="user",
                source=address,
            )
        return await _retry_login(request, api, 429, "登录失败次数过多，请稍后再试。")
    async with api.db.transaction() as session:
        found = await sessions.credentials(session, token.strip())
        ok = found is not None and found[0].name == name and bool(found[0].role_set & DESK_ROLES)
        audit.record(
            session,
            actor=f"user:{name}",
            action="dashboard.login" if ok else "dashboard.refused",
            object_type="user",
            object_id=found[0].id if found and ok else None,
            source=address,
        )
        session_id = (
            await sessions.start(session, *found, max_age=config.session_max_age, source=address)
            if ok and found
            else None
        )
    if session_id is None:
        await throttle.failed(name, address)
        return await _retry_login(
            request, api, 401, "用户名或令牌不正确，或没有看板权限（合规专员、编辑或审核员）。"
        )
    await throttle.succeeded(name)
    assert found is not None
    response = RedirectResponse(home_of(found[0]), status_code=303)
    _cookie(
        response,
        request,
        SESSION_COOKIE,
        sign(await _key(request, api), {"sid": session_id, "iat": time.time()}),
        int(config.session_max_age.total_seconds()),
    )
    response.delete_cookie(CSRF_COOKIE, path="/dashboard")
    return response


async def _retry_login(request: Request, api: StateDep, status: int, error: str) -> Response:
    response = await login_form(request, api, error=error)
    response.status_code = status
    return response


@router.post("/logout")
async def logout(api: StateDep, viewer: AnyViewerDep, csrf: Annotated[str, Form()]) -> Response:
    if viewer is not None:
        if not hmac.compare_digest(viewer.csrf, csrf):
            return HTMLResponse("CSRF check failed", status_code=403, headers=SECURITY_HEADERS)
        async with api.db.transaction() as session:
            await sessions.end(session, viewer.session_id)
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/dashboard")
    return response


FiltersDep = Annotated[PageFilters, Depends()]


@router.get("")
async def dashboard(request: Request, api: StateDep, viewer: AnyViewerDep, filters: FiltersDep) -> Response:
    if viewer is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    if not is_officer(viewer.user):
        return RedirectResponse(home_of(viewer.user), status_code=303)
    common: dict[str, Any] = {
        "user": viewer.user,
        "csrf": viewer.csrf,
        "filters": filters,
        "refresh": _refresh(api),
        **last_month(),
    }
    try:
        data = await page_data(api.db, api.settings, viewer.user, filters)
    except (ScopeError, ValueError) as exc:
        return render_page(
            "index.html.j2", 400, **common, error=str(exc), report=None, chart=None, clock=None
        )
    return render_page(
        "index.html.j2",
        **common,
        error=None,
        report=data.report,
        chart=chart(data.series),
        clock=data.clock,
        quiet=data.quiet,
        veto_days=from_settings(api.settings).silent_after.days,
    )


def _refresh(api: ApiState) -> int:
    return max(1, int(api.settings.dashboard_refresh_seconds))
