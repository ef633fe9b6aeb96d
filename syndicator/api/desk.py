"""The officers' desk on the dashboard: the live repost clock and its drill-down pages.

`/dashboard/clock` is the clock as an HTML fragment (what the page's script fetches to stay
current); `/dashboard/units/{id}`, `/dashboard/accounts/{id}` and `/dashboard/targets/{id}` drill
down unit → account → item. Ids outside the officer's scope answer 404, as unknown ones do.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from syndicator import audit
from syndicator.api.dashboard import (
    SECURITY_HEADERS,
    TEMPLATES,
    FiltersDep,
    ViewerDep,
    jinja,
    render_page,
)
from syndicator.api.deps import StateDep, client_address
from syndicator.models import ChannelAccount, Obligation
from syndicator.obligations import live
from syndicator.obligations.clock import aware
from syndicator.obligations.export import EXPORT_TARGET_LIMIT
from syndicator.obligations.inspection import Period, inspect
from syndicator.obligations.inspection_export import MEDIA, inspection_file
from syndicator.obligations.pages import Download, download_file, page_data
from syndicator.obligations.report import load_scope
from syndicator.obligations.scope import ScopeError, UnitTree, check_in_scope, load_tree, unit_id_for
from syndicator.obligations.sessions import Viewer

router = APIRouter(prefix="/dashboard", include_in_schema=False)
SCRIPT = Path(TEMPLATES / "dashboard" / "static" / "desk.js")


@router.get("/static/desk.js")
async def script() -> Response:
    return Response(
        SCRIPT.read_bytes(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/clock")
async def clock_fragment(api: StateDep, viewer: ViewerDep, filters: FiltersDep) -> Response:
    """The clock section's content for the current filters: what the page swaps in on refresh."""
    if viewer is None:
        return HTMLResponse("", status_code=401, headers=SECURITY_HEADERS)
    try:
        async with api.db.transaction() as session:
            query = await filters.query(session)
            _, scope = await load_scope(session, query, user_scope=viewer.user.scope_unit_id)
            board = await live.clock(session, scope)
    except (ScopeError, ValueError) as exc:
        return HTMLResponse(str(exc), status_code=400, headers=SECURITY_HEADERS)
    html = jinja.get_template("_clock.html.j2").render(clock=board, as_of=filters.values["as_of"])
    return HTMLResponse(html, headers=SECURITY_HEADERS)


def _moment(as_of: str | None) -> datetime:
    return aware(datetime.fromisoformat(as_of) if as_of else None)


def _not_found(viewer: Viewer) -> Response:
    return render_page("missing.html.j2", 404, user=viewer.user, csrf=viewer.csrf)


@router.get("/units/{unit_id}")
async def unit_page(unit_id: int, api: StateDep, viewer: ViewerDep, as_of: str | None = None) -> Response:
    if viewer is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    async with api.db.transaction() as session:
        tree = await load_tree(session)
        if unit_id not in tree.units or not _in_scope(tree, viewer, unit_id):
            return _not_found(viewer)
        detail = await live.unit_detail(session, tree, unit_id, _moment(as_of))
    return render_page("unit.html.j2", user=viewer.user, csrf=viewer.csrf, unit=detail, as_of=as_of or "")


@router.get("/accounts/{account_id}")
async def account_page(
    account_id: int, api: StateDep, viewer: ViewerDep, as_of: str | None = None
) -> Response:
    if viewer is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    async with api.db.transaction() as session:
        tree = await load_tree(session)
        account = await session.get(ChannelAccount, account_id)
        if account is None or not _in_scope(tree, viewer, account.unit_id):
            return _not_found(viewer)
        detail = await live.account_detail(session, tree, account, _moment(as_of))
    return render_page(
        "account.html.j2", user=viewer.user, csrf=viewer.csrf, account=detail, as_of=as_of or ""
    )


@router.get("/targets/{obligation_id}")
async def target_page(
    obligation_id: int, api: StateDep, viewer: ViewerDep, as_of: str | None = None
) -> Response:
    if viewer is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    async with api.db.transaction() as session:
        tree = await load_tree(session)
        obligation = await session.get(Obligation, obligation_id)
        if obligation is None or not _in_scope(tree, viewer, obligation.unit_id):
            return _not_found(viewer)
        detail = await live.target_detail(session, tree, obligation, _moment(as_of))
    return render_page("target.html.j2", user=viewer.user, csrf=viewer.csrf, target=detail, as_of=as_of or "")


def _in_scope(tree: UnitTree, viewer: Viewer, unit_id: int) -> bool:
    try:
        check_in_scope(tree, viewer.user, unit_id)
    except ScopeError:
        return False
    return True


@router.get("/export.{fmt}")
async def download(
    fmt: str,
    request: Request,
    api: StateDep,
    viewer: ViewerDep,
    filters: FiltersDep,
    sheet: Download = Download.CLOCK,
) -> Response:
    """What the page shows, for the same filters, `as_of` and scope: one table as CSV, or all as XLSX."""
    if viewer is None:
        return HTMLResponse("", status_code=401, headers=SECURITY_HEADERS)
    if fmt not in ("csv", "xlsx"):
        return _not_found(viewer)
    try:
        data = await page_data(
            api.db,
            api.settings,
            viewer.user,
            filters,
            targets=EXPORT_TARGET_LIMIT,
            overdue=None,
            pending=EXPORT_TARGET_LIMIT,
        )
    except (ScopeError, ValueError) as exc:
        return HTMLResponse(str(exc), status_code=400, headers=SECURITY_HEADERS)
    async with api.db.transaction() as session:
        audit.record(
            session,
            actor=f"user:{viewer.user.name}",
            action="dashboard.export",
            object_type="report",
            source=client_address(request),
            format=fmt,
            sheet=sheet.value,
            filters=filters.values,
        )
    body, media, name = download_file(data, fmt, sheet)
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media, headers=headers)


@router.get("/inspection.{fmt}")
async def inspection_download(
    fmt: str,
    api: StateDep,
    viewer: ViewerDep,
    date_from: str = "",
    date_to: str = "",
    unit: str = "",
) -> Response:
    """The inspection export for a period, within the officer's scope (the page's unit filter)."""
    if viewer is None:
        return HTMLResponse("", status_code=401, headers=SECURITY_HEADERS)
    if fmt not in MEDIA:
        return _not_found(viewer)
    try:
        period = Period.of(date.fromisoformat(date_from), date.fromisoformat(date_to))
        async with api.db.transaction() as session:
            data = await inspect(
                session,
                api.settings,
                period,
                unit_id=await unit_id_for(session, unit or None),
                user_scope=viewer.user.scope_unit_id,
            )
    except (ScopeError, ValueError) as exc:
        return HTMLResponse(f"无法生成：{exc}", status_code=400, headers=SECURITY_HEADERS)
    body, media = inspection_file(data, fmt)
    name = f"inspection-{period.date_from:%Y%m%d}-{period.date_to:%Y%m%d}.{fmt}"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media, headers=headers)
