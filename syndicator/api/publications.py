"""Publications: the dead-letter view and manual retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from syndicator.api.deps import TOKEN_PROBLEMS, DbId, Limit, SessionDep, StateDep, problems
from syndicator.api.schemas import PublicationOut
from syndicator.api.scoping import CallerScope, scoped
from syndicator.models import Publication, PublicationState
from syndicator.publications import PublicationError, list_publications, retry_publication
from syndicator.queue import enqueue_publish

router = APIRouter(prefix="/api/v1/publications", tags=["publications"])

Reader = Annotated[CallerScope, Depends(scoped("admin", "editor", "reviewer", "officer"))]
Operator = Annotated[CallerScope, Depends(scoped("admin", "editor"))]


@router.get("", response_model=list[PublicationOut], responses=TOKEN_PROBLEMS)
async def publications(
    session: SessionDep, caller: Reader, state: PublicationState | None = None, limit: Limit = 100
) -> list[PublicationOut]:
    found = await list_publications(session, state=state, limit=limit, unit_ids=caller.unit_ids)
    return [PublicationOut.model_validate(p) for p in found]


@router.post(
    "/{publication_id}/retry",
    status_code=202,
    response_model=PublicationOut,
    responses=TOKEN_PROBLEMS | problems(404, 409),
)
async def retry(publication_id: DbId, api: StateDep, caller: Operator) -> PublicationOut:
    try:
        async with api.db.transaction() as session:
            existing = await session.get(Publication, publication_id)
            unit_id = await caller.article_unit(session, existing.article_id) if existing else None
            caller.require(unit_id, f"no publication {publication_id}")
            publication = await retry_publication(session, publication_id, actor=f"user:{caller.user.name}")
    except PublicationError as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    assert publication.id is not None
    if api.redis is not None:
        await enqueue_publish(api.redis, publication.id, publication.generation)
    return PublicationOut.model_validate(publication)
