"""The portal webhook (signed) and reading articles back (token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from syndicator.articles import ArticleIn, IngestOutcome, UnknownUnitError, ingest_article
from syndicator.ingest.deps import SessionDep, SignedBody, StateDep, client_address, require_roles
from syndicator.models import Article, ArticleVersion, User, WebhookDelivery
from syndicator.publications import list_publications
from syndicator.queue import enqueue_publish_all
from syndicator.signing import SIGNATURE_HEADER

router = APIRouter(prefix="/api/v1/articles", tags=["articles"])

Reader = Annotated[User, Depends(require_roles("admin", "editor", "reviewer", "officer"))]


class IngestAccepted(BaseModel):
    article_id: int
    state: str
    status: str
    version: int
    publications: list[int]


@router.post("", status_code=202, response_model=IngestAccepted)
async def receive_article(request: Request, body: SignedBody, state: StateDep) -> IngestAccepted:
    """Accept an approved article from the portal (signed; see DESIGN.md "Ingest")."""
    payload = parse_article(body)
    try:
        async with state.db.transaction() as session:
            session.add(WebhookDelivery(signature=request.headers[SIGNATURE_HEADER].strip()))
            await session.flush()
            outcome = await ingest_article(session, payload, actor="portal", source=client_address(request))
    except UnknownUnitError as exc:
        raise HTTPException(422, detail=[{"field": "unit", "message": str(exc)}]) from exc
    except IntegrityError as exc:
        raise HTTPException(401, detail="signature already used (replay); sign each delivery afresh") from exc
    await enqueue_publish_all(state.redis, outcome.publication_ids)
    return accepted(outcome)


def parse_article(body: bytes) -> ArticleIn:
    try:
        return ArticleIn.model_validate_json(body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
            for error in exc.errors()
        ]
        raise HTTPException(422, detail=errors) from exc


def accepted(outcome: IngestOutcome) -> IngestAccepted:
    assert outcome.article.id is not None
    return IngestAccepted(
        article_id=outcome.article.id,
        state=outcome.article.state,
        status=outcome.status,
        version=outcome.version.number,
        publications=outcome.publication_ids,
    )


@router.get("/{article_id}")
async def read_article(article_id: int, session: SessionDep, _caller: Reader) -> dict[str, Any]:
    article = await session.get(Article, article_id)
    if article is None:
        raise HTTPException(404, detail=f"no article {article_id}")
    versions = (
        await session.exec(select(ArticleVersion).where(ArticleVersion.article_id == article_id))
    ).all()
    publications = await list_publications(session, article_id=article_id)
    return {
        "article": article.model_dump(mode="json"),
        "versions": [
            {"number": v.number, "status": v.status, "received_at": v.received_at} for v in versions
        ],
        "publications": [p.model_dump(mode="json") for p in publications],
    }
