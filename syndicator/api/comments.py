"""HTTP: app backends push comments (signed with the account's secret); reviewers list comments.

`POST /api/v1/channels/app/comments` body:
`{"account": "<channel account name>", "comments": [{"id", "article_id", "author", "content",
"created_at"}]}`, signed like the ingest webhook (channels/signing.py) with the secret the app
account is configured with (the same one Syndicator signs its pushes to that backend with).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError

from channels.base import RemoteComment
from syndicator.api.deps import TOKEN_PROBLEMS, Limit, SessionDep, StateDep, problems
from syndicator.api.scoping import CallerScope, scoped
from syndicator.api.signed import FreshAppPush
from syndicator.models import ChannelAccount, CommentState
from syndicator.moderation.intake import ingest_comments
from syndicator.moderation.queries import CommentPublic, list_comments
from syndicator.moderation.queue import enqueue_apply
from syndicator.workdays import WorkCalendar

router = APIRouter(tags=["comments"])

Reader = Annotated[CallerScope, Depends(scoped("admin", "reviewer", "officer"))]
MAX_PUSH = 1000


class PushedComment(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    article_id: str = Field(min_length=1, max_length=200)
    author: str = Field(max_length=200)
    content: str = Field(max_length=10_000)
    created_at: datetime | None = None

    def remote(self) -> RemoteComment:
        created = self.created_at or datetime.now(UTC)
        return RemoteComment(
            remote_id=self.id,
            remote_article_id=self.article_id,
            author=self.author,
            content=self.content,
            created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
        )


class CommentPush(BaseModel):
    account: str
    comments: list[PushedComment] = Field(max_length=MAX_PUSH)


async def signed_push(signed: FreshAppPush) -> tuple[ChannelAccount, CommentPush]:
    """The body is parsed only after the signature (by one of the app accounts' secrets) held and
    was consumed: an anonymous or replayed request never reaches the parser."""
    try:
        push = CommentPush.model_validate_json(signed.body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise HTTPException(422, detail=errors) from exc
    account: ChannelAccount | None = next((a for a in signed.owners if a.name == push.account), None)
    if account is None:
        raise HTTPException(403, detail="the push names another account than the one that signed it")
    return account, push


SignedPush = Annotated[tuple[ChannelAccount, CommentPush], Depends(signed_push)]


class PushAccepted(BaseModel):
    new: list[int]  # ids of the comments stored for the first time
    revised: list[int]  # ids of comments whose text changed (screened and shown again)
    unchanged: int
    auto_rejected: list[int]  # ids rejected as spam without a moderator
    due_provisional: list[int]  # ids whose reply due date is provisional (calendar year unknown)


@router.post(
    "/api/v1/channels/app/comments",
    status_code=202,
    response_model=PushAccepted,
    responses=problems(401, 403, 409),
)
async def push_comments(api: StateDep, signed: SignedPush) -> PushAccepted:
    account, push = signed
    calendar = WorkCalendar.from_file(api.settings.holiday_schedule_file)
    try:
        async with api.db.transaction() as session:
            result = await ingest_comments(
                session,
                account,
                [c.remote() for c in push.comments],
                calendar=calendar,
                chat_id=api.settings.moderation_chat_id,
                auto_reject_spam=api.settings.comment_auto_reject_spam,
            )
    except IntegrityError as exc:  # the poller stored one of them at the same moment
        raise HTTPException(409, detail="a comment was stored concurrently; repeat the push") from exc
    for comment_id, revision in result.auto_rejected:
        await enqueue_apply(api.redis, comment_id, revision, "rejected")
    return PushAccepted(
        new=result.new,
        revised=result.revised,
        unchanged=result.unchanged,
        auto_rejected=[comment_id for comment_id, _ in result.auto_rejected],
        due_provisional=result.provisional_due,
    )


@router.get("/api/v1/comments", response_model=list[CommentPublic], responses=TOKEN_PROBLEMS)
async def comments(
    session: SessionDep,
    caller: Reader,
    state: CommentState | None = None,
    overdue: bool = False,
    limit: Limit = 100,
) -> list[CommentPublic]:
    return await list_comments(
        session, state=state, overdue_only=overdue, limit=limit, unit_ids=caller.unit_ids
    )
