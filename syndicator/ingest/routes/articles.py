"""The portal webhook (signed) and reading articles back (token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ValidationError
from sqlmodel import select

from syndicator.articles import ArticleIn, IngestOutcome, UnknownUnitError, ingest_article
from syndicator.ingest.deps import (
    ConcurrentDeliveryError,
    SessionDep,
    SignedBody,
    StateDep,
    client_address,
    delivery_transaction,
    require_roles,
)
from syndicator.models import Article, ArticleVersion, User
from syndicator.pipeline.withdrawal import WithdrawalError, request_withdrawal
from syndicator.publications import list_publications
from syndicator.queue import WITHDRAW_JOB, enqueue_publish_all

router = APIRouter(prefix="/api/v1/articles", tags=["articles"])

# Two first deliveries of one article race on its unique key; the loser runs again and sees the winner.
CONCURRENT_DELIVERY_ATTEMPTS = 3

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
    links = await state.link_statuses(payload)  # network first, then the transaction
    for attempt in range(CONCURRENT_DELIVERY_ATTEMPTS):
        try:
            async with delivery_transaction(state, request) as session:
                outcome = await ingest_article(
                    session,
                    payload,
                    actor="portal",
                    source=client_address(request),
                    review=state.review,
                    links=links,
                )
            break
        except UnknownUnitError as exc:
            raise HTTPException(422, detail=[{"field": "unit", "message": str(exc)}]) from exc
        except ConcurrentDeliveryError:
            if attempt == CONCURRENT_DELIVERY_ATTEMPTS - 1:
                raise HTTPException(
                    409, detail="the same article is being delivered concurrently; retry"
                ) from None
    await enqueue_publish_all(state.redis, outcome.publication_ids)
    return accepted(outcome)


class WithdrawalAccepted(BaseModel):
    article_id: int
    state: str
    withdrawing: list[int]


@router.delete("/{article_id}", status_code=202, response_model=WithdrawalAccepted)
async def withdraw_article(
    article_id: int, request: Request, _body: SignedBody, state: StateDep
) -> WithdrawalAccepted:
    """Withdraw an article from every channel (signed like the webhook; the body may be empty)."""
    try:
        async with delivery_transaction(state, request) as session:
            removing = await request_withdrawal(
                session, article_id, actor="portal", source=client_address(request)
            )
    except WithdrawalError as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    await enqueue_publish_all(state.redis, removing, job=WITHDRAW_JOB)
    return WithdrawalAccepted(article_id=article_id, state="withdrawn", withdrawing=removing)


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
