"""The dashboard's preview page for editors and reviewers: paste or upload an article JSON, see
each channel's rendering and the pre-publish findings; a held version opens from its chat card
(`/dashboard/preview/versions/{id}`). Nothing is stored or sent."""

from __future__ import annotations

import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from syndicator.api.dashboard import PREVIEW_ROLES, SECURITY_HEADERS, AnyViewerDep, render_page
from syndicator.api.deps import StateDep
from syndicator.articles import ArticleIn
from syndicator.obligations.sessions import Viewer
from syndicator.preview import (
    Preview,
    VersionNotFoundError,
    default_cover_for,
    preview_article,
    preview_version,
)

router = APIRouter(prefix="/dashboard/preview", include_in_schema=False)
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # as the webhook's body limit
FIELD_NAMES = {
    "title": "标题",
    "external_id": "稿件编号",
    "source_portal": "来源网站",
    "unit": "发布单位",
    "published_at": "发布时间",
    "url": "原文链接",
    "body_html": "正文",
    "doc_number": "文号",
}


def _allowed(viewer: Viewer | None) -> Response | None:
    if viewer is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    if not viewer.user.role_set & PREVIEW_ROLES:
        return HTMLResponse("预览需要编辑或审核员权限。", status_code=403, headers=SECURITY_HEADERS)
    return None


def _render(viewer: Viewer, status: int = 200, **context: Any) -> HTMLResponse:
    defaults: dict[str, Any] = {"preview": None, "errors": [], "article_text": "", "version": None}
    return render_page(
        "preview.html.j2", status, user=viewer.user, csrf=viewer.csrf, **{**defaults, **context}
    )


@router.get("")
async def preview_form(viewer: AnyViewerDep) -> Response:
    if (refused := _allowed(viewer)) is not None:
        return refused
    assert viewer is not None
    return _render(viewer)


@router.post("")
async def preview_submit(
    api: StateDep,
    viewer: AnyViewerDep,
    csrf: Annotated[str, Form()],
    article: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if (refused := _allowed(viewer)) is not None:
        return refused
    assert viewer is not None
    if not hmac.compare_digest(viewer.csrf, csrf):
        return HTMLResponse("CSRF check failed", status_code=403, headers=SECURITY_HEADERS)
    text = article
    if file is not None and file.filename:
        raw = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(raw) > MAX_UPLOAD_BYTES:
            return _render(viewer, 413, errors=["文件超过 2 MB。"])
        text = raw.decode("utf-8-sig", errors="replace")
    try:
        parsed = ArticleIn.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        return _render(
            viewer, 422, errors=[f"不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列"], article_text=text
        )
    except ValidationError as exc:
        return _render(viewer, 422, errors=_field_errors(exc), article_text=text)
    async with api.db.transaction() as session:
        cover = await default_cover_for(session, parsed.unit)
    result = preview_article(parsed, wording=api.review.wording, default_cover=cover)
    return _render(viewer, preview=_view(result), article_text=text)


@router.get("/versions/{version_id}")
async def preview_held(version_id: int, api: StateDep, viewer: AnyViewerDep) -> Response:
    if (refused := _allowed(viewer)) is not None:
        return refused
    assert viewer is not None
    try:
        async with api.db.transaction() as session:
            result, version = await preview_version(
                session, version_id, wording=api.review.wording, user_scope=viewer.user.scope_unit_id
            )
    except VersionNotFoundError:
        return render_page("missing.html.j2", 404, user=viewer.user, csrf=viewer.csrf)
    return _render(viewer, preview=_view(result), version=version)


def _view(result: Preview) -> dict[str, Any]:
    """The preview for the template: the WeChat body is markup our renderer produced from the
    sanitised body (nh3), so it is shown as is; everything else is escaped."""
    return {
        "data": result,
        "wechat_body": Markup(result.wechat.body_html),  # noqa: S704  (sanitised by channels/wechat/render.py)
        "app_json": json.dumps(result.app.payload, ensure_ascii=False, indent=2),
    }


def _field_errors(exc: ValidationError) -> list[str]:
    found = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        found.append(f"{FIELD_NAMES.get(field, field)}（{field}）：{error['msg']}")
    return found
