"""The portal webhook (signed) and reading articles back (token)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from syndicator.api.deps import (
    TOKEN_PROBLEMS,
    ApiState,
    ArticleId,
    DbId,
    SessionDep,
    StateDep,
    client_address,
    problems,
)
from syndicator.api.schemas import PublicationOut
from syndicator.api.scoping import CallerScope, scoped
from syndicator.api.signed import FreshPortalRequest, PortalRequest, refuse_replay, remember_article
from syndicator.articles import ArticleIn, IngestOutcome, UnknownUnitError, ingest_article
from syndicator.models import Article, ArticleVersion, WebhookDelivery
from syndicator.pipeline.withdrawal import WithdrawalError, request_withdrawal
from syndicator.publications import list_publications
from syndicator.queue import WITHDRAW_JOB, enqueue_publish_all

router = APIRouter(prefix="/api/v1/articles", tags=["articles"])

CONCURRENT_DELIVERY_ATTEMPTS = 3

Reader = Annotated[CallerScope, Depends(scoped("admin", "editor", "reviewer", "officer"))]


class IngestAccepted(BaseModel):
    article_id: int
    state: str
    status: str
    version: int
    publications: list[int]


SIGNED_PROBLEMS = problems(401, 409)


@router.post("", status_code=202, response_model=IngestAccepted, responses=SIGNED_PROBLEMS)
async def receive_article(request: Request, signed: PortalRequest, state: StateDep) -> IngestAccepted:
    """Accept an approved article from the portal (signed; see README "The portal webhook")."""
    if signed.replay_of is not None:
        return await redelivered(state, request, signed.replay_of)
    payload = parse_article(signed.body)
    links = await state.link_statuses(payload)  # network first, then the transaction
    for attempt in range(CONCURRENT_DELIVERY_ATTEMPTS):
        try:
            async with state.db.transaction() as session:
                outcome = await ingest_article(
                    session,
                    payload,
                    actor="portal",
                    source=client_address(request),
                    review=state.review,
                    links=links,
                )
                assert outcome.article.id is not None
                await remember_article(session, signed.signature, outcome.article.id, outcome.version.number)
            break
        except UnknownUnitError as exc:
            raise HTTPException(422, detail=[{"field": "unit", "message": str(exc)}]) from exc
        except IntegrityError:
            # Two first deliveries of one article raced on its unique key; run again to see the winner.
            if attempt == CONCURRENT_DELIVERY_ATTEMPTS - 1:
                raise HTTPException(
                    409, detail="the same article is being delivered concurrently; retry"
                ) from None
    await enqueue_publish_all(state.redis, outcome.publication_ids)
    return accepted(outcome)


async def redelivered(state: ApiState, request: Request, earlier: WebhookDelivery) -> IngestAccepted:
    """An identical re-delivery (same signature) of an accepted article: a portal that lost the
    first answer asks again, and is told the same article, fanning out nothing. Any other replay
    (of a refused request, or of one still running) is a 401."""
    if earlier.article_id is None or earlier.version is None:
        raise await refuse_replay(state, request, "webhook.rejected")
    async with state.db.transaction() as session:
        article = await session.get(Article, earlier.article_id)
    if article is None:
        raise await refuse_replay(state, request, "webhook.rejected")
    return IngestAccepted(
        article_id=earlier.article_id,
        state=article.state,
        status="duplicate",
        version=earlier.version,
        publications=[],
    )


class WithdrawalAccepted(BaseModel):
    article_id: int
    state: str
    withdrawing: list[int]


@router.delete(
    "/{article_id}", status_code=202, response_model=WithdrawalAccepted, responses=problems(401, 404)
)
async def withdraw_article(
    article_id: ArticleId, request: Request, _signed: FreshPortalRequest, state: StateDep
) -> WithdrawalAccepted:
    """Withdraw an article from every channel (signed like the webhook; the body may be empty)."""
    try:
        async with state.db.transaction() as session:
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


class ArticleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source_portal: str
    external_id: str
    unit_id: int
    title: str
    url: str
    state: str
    current_version: int
    doc_number: str | None
    created_at: datetime
    updated_at: datetime


class VersionOut(BaseModel):
    number: int
    status: str
    received_at: datetime


class ArticleRead(BaseModel):
    article: ArticleOut
    versions: list[VersionOut]
    publications: list[PublicationOut]


@router.get("/{article_id}", response_model=ArticleRead, responses=TOKEN_PROBLEMS | problems(404))
async def read_article(article_id: DbId, session: SessionDep, caller: Reader) -> ArticleRead:
    article = await session.get(Article, article_id)
    caller.require(article.unit_id if article else None, f"no article {article_id}")
    assert article is not None
    versions = (
        await session.exec(select(ArticleVersion).where(ArticleVersion.article_id == article_id))
    ).all()
    publications = await list_publications(session, article_id=article_id)
    return ArticleRead(
        article=ArticleOut.model_validate(article),
        versions=[VersionOut(number=v.number, status=v.status, received_at=v.received_at) for v in versions],
        publications=[PublicationOut.model_validate(p) for p in publications],
    )
