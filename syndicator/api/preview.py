"""Preview: each channel's rendering of an article and the pre-publish findings; nothing is stored
or sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from syndicator.api.deps import TOKEN_PROBLEMS, DbId, SessionDep, StateDep, problems, require_roles
from syndicator.articles import ArticleIn
from syndicator.models import User
from syndicator.preview import (
    Preview,
    VersionNotFoundError,
    default_cover_for,
    preview_article,
    preview_version,
)

router = APIRouter(prefix="/api/v1/preview", tags=["preview"])
Editor = Annotated[User, Depends(require_roles("editor", "reviewer", "admin"))]


@router.post(
    "", response_model=Preview, summary="Preview an article on every channel", responses=TOKEN_PROBLEMS
)
async def preview(article: ArticleIn, session: SessionDep, api: StateDep, _caller: Editor) -> Preview:
    """The WeChat article (title as cut, digest, cover, body HTML), the Weibo status with its
    Weibo-counted length, the app payload, and the pre-publish check findings. Stores and sends
    nothing; the unit's WeChat default cover is used when the article has no image."""
    cover = await default_cover_for(session, article.unit)
    return preview_article(article, wording=api.review.wording, default_cover=cover)


@router.get(
    "/versions/{version_id}",
    response_model=Preview,
    summary="Preview a stored (held) version",
    responses=TOKEN_PROBLEMS | problems(404),
)
async def preview_stored(version_id: DbId, session: SessionDep, api: StateDep, caller: Editor) -> Preview:
    """A stored version, e.g. one the checks held, as each channel would show it."""
    try:
        found, _ = await preview_version(
            session, version_id, wording=api.review.wording, user_scope=caller.scope_unit_id
        )
    except VersionNotFoundError as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    return found
