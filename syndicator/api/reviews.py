"""Held article versions: the reviewers' queue, release (with a reason) and rejection."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.api.deps import TOKEN_PROBLEMS, DbId, SessionDep, StateDep, problems
from syndicator.api.scoping import CallerScope, scoped
from syndicator.models import ArticleVersion
from syndicator.queue import enqueue_publish_all
from syndicator.review import ReviewError, held_versions, reject_version, release_version

router = APIRouter(prefix="/api/v1/reviews", tags=["reviews"])

Reviewer = Annotated[CallerScope, Depends(scoped("reviewer"))]


class Decision(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class FindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule: str
    severity: str
    message: str
    matched: str
    field: str
    position: int
    created_at: datetime


class HeldVersion(BaseModel):
    version_id: int
    article_id: int
    title: str
    version: int
    submitted_by: str | None
    findings: list[FindingOut]


class Released(BaseModel):
    version_id: int
    review_state: str
    publications: list[int]


class Rejected(BaseModel):
    version_id: int
    review_state: str


@router.get("", response_model=list[HeldVersion], responses=TOKEN_PROBLEMS)
async def held(session: SessionDep, caller: Reviewer) -> list[HeldVersion]:
    """Versions the pre-publish checks held back, with their findings (in the caller's scope)."""
    return [
        HeldVersion(
            version_id=h.version.id or 0,
            article_id=h.article.id or 0,
            title=h.article.title,
            version=h.version.number,
            submitted_by=h.version.submitted_by,
            findings=[FindingOut.model_validate(f) for f in h.findings],
        )
        for h in await held_versions(session)
        if caller.allows(h.article.unit_id)
    ]


async def require_version_in_scope(session: AsyncSession, caller: CallerScope, version_id: int) -> None:
    version = await session.get(ArticleVersion, version_id)
    unit_id = await caller.article_unit(session, version.article_id) if version else None
    caller.require(unit_id, f"no article version {version_id}")


DECISION_PROBLEMS = TOKEN_PROBLEMS | problems(404, 409)


@router.post("/{version_id}/release", status_code=202, response_model=Released, responses=DECISION_PROBLEMS)
async def release(version_id: DbId, decision: Decision, state: StateDep, caller: Reviewer) -> Released:
    try:
        async with state.db.transaction() as session:
            await require_version_in_scope(session, caller, version_id)
            publication_ids = await release_version(session, version_id, caller.user, decision.reason)
    except ReviewError as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    await enqueue_publish_all(state.redis, publication_ids)
    return Released(version_id=version_id, review_state="released", publications=publication_ids)


@router.post("/{version_id}/reject", response_model=Rejected, responses=DECISION_PROBLEMS)
async def reject(version_id: DbId, decision: Decision, state: StateDep, caller: Reviewer) -> Rejected:
    try:
        async with state.db.transaction() as session:
            await require_version_in_scope(session, caller, version_id)
            await reject_version(session, version_id, caller.user, decision.reason)
    except ReviewError as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    return Rejected(version_id=version_id, review_state="rejected")
