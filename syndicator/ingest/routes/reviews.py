"""Held article versions: the reviewers' queue, release (with a reason) and rejection."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from syndicator.ingest.deps import SessionDep, StateDep, require_roles
from syndicator.models import User
from syndicator.queue import enqueue_publish_all
from syndicator.review import ReviewError, held_versions, reject_version, release_version

router = APIRouter(prefix="/api/v1/reviews", tags=["reviews"])

Reviewer = Annotated[User, Depends(require_roles("reviewer"))]


class Decision(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.get("")
async def held(session: SessionDep, _caller: Reviewer) -> list[dict[str, Any]]:
    """Versions the pre-publish checks held back, with their findings."""
    return [
        {
            "version_id": h.version.id,
            "article_id": h.article.id,
            "title": h.article.title,
            "version": h.version.number,
            "submitted_by": h.version.submitted_by,
            "findings": [f.model_dump(mode="json", exclude={"id", "version_id"}) for f in h.findings],
        }
        for h in await held_versions(session)
    ]


@router.post("/{version_id}/release", status_code=202)
async def release(version_id: int, decision: Decision, state: StateDep, caller: Reviewer) -> dict[str, Any]:
    try:
        async with state.db.transaction() as session:
            publication_ids = await release_version(session, version_id, caller, decision.reason)
    except ReviewError as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    await enqueue_publish_all(state.redis, publication_ids)
    return {"version_id": version_id, "review_state": "released", "publications": publication_ids}


@router.post("/{version_id}/reject")
async def reject(version_id: int, decision: Decision, state: StateDep, caller: Reviewer) -> dict[str, Any]:
    try:
        async with state.db.transaction() as session:
            await reject_version(session, version_id, caller, decision.reason)
    except ReviewError as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    return {"version_id": version_id, "review_state": "rejected"}
