"""Publications: the dead-letter view and manual retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from syndicator.ingest.deps import SessionDep, StateDep, require_roles
from syndicator.models import PublicationState, User
from syndicator.publications import PublicationError, list_publications, retry_publication
from syndicator.queue import enqueue_publish

router = APIRouter(prefix="/api/v1/publications", tags=["publications"])

Reader = Annotated[User, Depends(require_roles("admin", "editor", "reviewer", "officer"))]
Operator = Annotated[User, Depends(require_roles("admin", "editor"))]


@router.get("")
async def publications(
    session: SessionDep, _caller: Reader, state: PublicationState | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in await list_publications(session, state=state, limit=limit)]


@router.post("/{publication_id}/retry", status_code=202)
async def retry(publication_id: int, api: StateDep, caller: Operator) -> dict[str, Any]:
    try:
        async with api.db.transaction() as session:
            publication = await retry_publication(session, publication_id, actor=f"user:{caller.name}")
    except PublicationError as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    assert publication.id is not None
    if api.redis is not None:
        await enqueue_publish(api.redis, publication.id, publication.generation)
    return publication.model_dump(mode="json")
