"""A moderation action on a platform goes claim (intent recorded) → call → outcome, like a publish:
a reply is never posted twice, whatever dies in between. The platform is a scripted FakeAdapter."""

from __future__ import annotations

import httpx
import pytest
from arq import Retry
from sqlmodel import select

from channels.base import CommentAction, OutcomeUnknownError, TransientError
from syndicator.context import WorkerContext
from syndicator.db import Database
from syndicator.models import ApplyState, Comment, CommentState
from syndicator.moderation.jobs import apply_decision, reconcile_comment_decisions
from tests.fakes import FakeAdapter, FixedClock
from tests.moderation.conftest import World


class WorkerKilled(BaseException):
    """The process dies mid-call: nothing after the call runs, not even an `except Exception`."""


class FakeAdapters(dict):
    """WorkerContext' adapter cache answering the fake for every account."""

    def __init__(self, fake: FakeAdapter) -> None:
        super().__init__()
        self.fake = fake

    def __contains__(self, config: object) -> bool:
        return True

    def __getitem__(self, config: object) -> FakeAdapter:
        return self.fake


@pytest.fixture
async def ctx(settings, db: Database):
    fake = FakeAdapter()
    async with httpx.AsyncClient() as http:
        deps = WorkerContext(settings=settings, db=db, redis=None, http=http, clock=FixedClock())
        deps._adapters = FakeAdapters(fake)
        yield {"context": deps, "job_try": 1, "fake": fake}


async def decided(db: Database, world: World, state: str, *, apply_state: str = ApplyState.PENDING) -> int:
    async with db.transaction() as session:
        comment = Comment(
            platform="app",
            account_id=world.account_id,
            remote_id="c1",
            remote_article_id="art-1",
            author="市民王先生",
            content="请问什么时候实施？",
            content_hash="h",
            state=state,
            reply_text="下月起实施。" if state == CommentState.REPLIED else None,
            apply_state=apply_state,
        )
        session.add(comment)
        await session.flush()
        assert comment.id is not None
        return comment.id


async def apply_state_of(db: Database, comment_id: int) -> tuple[str, str | None]:
    async with db.transaction() as session:
        comment = await session.get(Comment, comment_id)
        assert comment is not None
        return comment.apply_state, comment.apply_error


async def test_the_intent_is_recorded_before_the_call_and_a_cut_reply_is_not_posted_again(
    db: Database, world: World, ctx
) -> None:
    comment_id = await decided(db, world, CommentState.REPLIED)
    fake: FakeAdapter = ctx["fake"]
    fake.script("moderate_comment", None, WorkerKilled())  # approved, then killed while replying
    with pytest.raises(WorkerKilled):
        await apply_decision(ctx, comment_id, 1, CommentState.REPLIED)
    assert (await apply_state_of(db, comment_id))[0] == ApplyState.APPLYING

    assert await apply_decision(ctx, comment_id, 1, CommentState.REPLIED) == ApplyState.FAILED
    state, error = await apply_state_of(db, comment_id)
    assert state == ApplyState.FAILED and error is not None and "结果未知" in error
    assert [args[1] for args in fake.called("moderate_comment")] == [
        CommentAction.APPROVE,
        CommentAction.REPLY,
    ]


async def test_a_cut_approval_is_simply_repeated(db: Database, world: World, ctx) -> None:
    comment_id = await decided(db, world, CommentState.APPROVED, apply_state=ApplyState.APPLYING)
    assert await apply_decision(ctx, comment_id, 1, CommentState.APPROVED) == ApplyState.APPLIED
    assert len(ctx["fake"].called("moderate_comment")) == 1


async def test_a_platform_that_said_not_done_is_asked_again_from_pending(
    db: Database, world: World, ctx
) -> None:
    comment_id = await decided(db, world, CommentState.REPLIED)
    ctx["fake"].script("moderate_comment", TransientError("502"))
    with pytest.raises(Retry):
        await apply_decision(ctx, comment_id, 1, CommentState.REPLIED)
    assert (await apply_state_of(db, comment_id))[0] == ApplyState.PENDING


async def test_a_reply_whose_outcome_is_unknown_is_never_sent_blindly(
    db: Database, world: World, ctx
) -> None:
    comment_id = await decided(db, world, CommentState.REPLIED)
    ctx["fake"].script("moderate_comment", None, OutcomeUnknownError("reset after sending"))
    assert await apply_decision(ctx, comment_id, 1, CommentState.REPLIED) == ApplyState.FAILED
    assert "结果未知" in ((await apply_state_of(db, comment_id))[1] or "")


async def test_a_decision_left_applying_by_a_lost_job_is_enqueued_again(
    db: Database, world: World, ctx
) -> None:
    await decided(db, world, CommentState.APPROVED, apply_state=ApplyState.APPLYING)
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
        comment.updated_at = comment.updated_at.replace(year=2025)
    assert await reconcile_comment_decisions(ctx) == 1
