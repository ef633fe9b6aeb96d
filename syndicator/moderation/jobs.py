"""arq jobs of moderation: pull comments, apply decisions on the platforms, deliver chat messages,
remind of reply deadlines, and re-enqueue decisions a lost enqueue left behind.

Jobs take ids, reload from the database and check state before acting. They use the worker's
`ctx["context"]` (syndicator.context.WorkerContext). `FUNCTIONS` and `CRON_JOBS` are what
syndicator/worker.py adds to the worker.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from arq import Retry, cron, func
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import (
    AuthExpiredError,
    ChannelAdapter,
    ChannelError,
    CommentAction,
    CommentPage,
    OutcomeUnknownError,
    PermanentError,
    PublishResult,
    RemoteComment,
)
from syndicator import audit
from syndicator.context import WorkerContext
from syndicator.models import AccountStatus, ApplyState, ChannelAccount, Comment, utcnow
from syndicator.moderation import polling
from syndicator.moderation.intake import (
    CARD_UPDATE_KIND,
    DueDates,
    IngestResult,
    ScreenedPage,
    screen_page,
    store_page,
)
from syndicator.moderation.queue import APPLY_PAGE_JOB, enqueue_applies, enqueue_apply, enqueue_poll
from syndicator.moderation.reminders import remind_replies
from syndicator.notify import notify
from syndicator.pipeline.policy import RetryLimits, decide_failure
from syndicator.workdays import WorkCalendar

log = structlog.get_logger(__name__)

WORKER = "worker"
MAX_APPLY_TRIES = 8
PAGE_APPLY_CONCURRENCY = 8  # a page's auto-rejections on the platform at once
STALE_APPLY_SECONDS = 60  # a decision not applied after this long is re-enqueued
# Decisions not yet carried out: to apply, or being applied by a job that may have died.
UNFINISHED = (ApplyState.PENDING, ApplyState.APPLYING)
# Retries of a platform action: the backoff and limit apply_decision always had.
APPLY_LIMITS = RetryLimits(publish_max_attempts=MAX_APPLY_TRIES, retry_base_seconds=1, retry_cap_seconds=300)
OUTCOME_UNKNOWN = "结果未知，请到平台核实："
ACTIONS = {
    "approved": (CommentAction.APPROVE,),
    "rejected": (CommentAction.REJECT,),
    "replied": (CommentAction.APPROVE, CommentAction.REPLY),  # a reply makes the comment public too
}


def calendar(ctx: dict[str, Any]) -> WorkCalendar:
    if "work_calendar" not in ctx:
        deps: WorkerContext = ctx["context"]
        ctx["work_calendar"] = WorkCalendar.from_file(deps.settings.holiday_schedule_file)
    return ctx["work_calendar"]


def auto_reject_spam(ctx: dict[str, Any]) -> bool:
    """Settings.comment_auto_reject_spam once the setting exists; a ctx override for tests."""
    deps: WorkerContext = ctx["context"]
    return bool(ctx.get("auto_reject_spam", deps.settings.comment_auto_reject_spam))


def now_of(ctx: dict[str, Any]) -> datetime:
    deps: WorkerContext = ctx["context"]
    return datetime.fromtimestamp(deps.clock(), UTC)


async def poll_comments(ctx: dict[str, Any]) -> int:
    """Cron tick: open intake rows for new feeds and articles, then one polling job per account
    with an intake due (job id per account, so never two at once). The platforms are called only
    when a row is due: its cadence, or the reset after a rate limit, sets when."""
    deps: WorkerContext = ctx["context"]
    now = now_of(ctx)

    def target_of(account: ChannelAccount, result: PublishResult) -> str | None:
        try:
            return deps.adapter_for(account).comment_target(result)
        except ChannelError as exc:  # e.g. its secret is not configured: the other accounts go on
            log.warning("comment_intake_unavailable", account_id=account.id, error=str(exc))
            return None

    async with deps.db.transaction() as session:
        await polling.open_intakes(session, now, target_of, stop_days=deps.settings.comment_intake_stop_days)
    async with deps.db.transaction() as session:
        ids = await polling.due_accounts(session, now)
    for account_id in ids:
        await enqueue_poll(deps.redis, account_id)
    return len(ids)


async def poll_account_comments(ctx: dict[str, Any], account_id: int) -> int:
    """Read the account's due feeds and articles; a rate limit defers all of them to the reset."""
    deps: WorkerContext = ctx["context"]
    now = now_of(ctx)
    async with deps.db.transaction() as session:
        account = await session.get(ChannelAccount, account_id)
        intakes = await polling.due_intakes(session, account_id, now)
    if account is None or account.status != AccountStatus.ACTIVE:
        return 0
    adapter = deps.adapter_for(account)

    dues = DueDates(calendar(ctx))

    def screen(page: CommentPage) -> ScreenedPage:
        return screen_page(account, page.comments, dues=dues, auto_reject_spam=auto_reject_spam(ctx), now=now)

    async def store(session: AsyncSession, page: ScreenedPage) -> IngestResult:
        return await store_page(session, page, chat_id=deps.settings.moderation_chat_id)

    stored = 0
    for intake in intakes:
        results, limited = await polling.read_intake(
            deps.db, adapter, account, intake, screen, store, now=now, settings=deps.settings
        )
        rejected = [(*pair, "rejected") for result in results for pair in result.auto_rejected]
        await enqueue_applies(deps.redis, rejected)
        stored += sum(len(result.new) + len(result.revised) for result in results)
        if limited is not None:
            until = now + timedelta(seconds=limited.retry_after)
            log.warning("comment_poll_deferred", account_id=account_id, until=str(until), error=str(limited))
            await polling.defer_account(deps.db, account_id, until)
            break
    return stored


async def apply_decision(ctx: dict[str, Any], comment_id: int, revision: int, state: str) -> str:
    """Carry a decision out on the platform: claim (intent recorded) → call → outcome recorded,
    like a publish (pipeline.jobs); retried on transient faults, a reply never posted twice."""
    deps: WorkerContext = ctx["context"]
    claimed = await _claim(deps, comment_id, revision, state)
    if claimed is None:
        return "nothing to do"
    remote, account, reply_text, maybe_done = claimed
    if maybe_done and state == "replied":  # an earlier attempt died mid-call: the reply may be posted
        return await _finish(ctx, comment_id, revision, state, error=f"{OUTCOME_UNKNOWN}上次执行中断")
    adapter = deps.adapter_for(account)
    try:
        for action in ACTIONS[state]:
            await adapter.moderate_comment(
                remote, action, reply_text if action is CommentAction.REPLY else None
            )
    except ChannelError as exc:
        return await _failed_attempt(ctx, adapter, (comment_id, revision, state), exc)
    return await _finish(ctx, comment_id, revision, state, error=None)


async def _claim(
    deps: WorkerContext, comment_id: int, revision: int, state: str
) -> tuple[RemoteComment, ChannelAccount, str | None, bool] | None:
    """Record the intent (`applying`) before any platform call; True when an earlier attempt had
    recorded it already (it may have reached the platform)."""
    async with deps.db.transaction() as session:
        comment = await session.get(Comment, comment_id, with_for_update=True)
        if comment is None or not _applicable(comment, revision, state):
            return None
        account = await session.get(ChannelAccount, comment.account_id)
        assert account is not None
        maybe_done = comment.apply_state == ApplyState.APPLYING
        comment.apply_state = ApplyState.APPLYING
        comment.updated_at = utcnow()
        remote = RemoteComment(
            remote_id=comment.remote_id,
            remote_article_id=comment.remote_article_id,
            author=comment.author,
            content=comment.content,
            created_at=comment.received_at,
            extra=dict((comment.extra or {}).get("remote", {})),
        )
        return remote, account, comment.reply_text, maybe_done


async def _failed_attempt(
    ctx: dict[str, Any], adapter: ChannelAdapter, decision: tuple[int, int, str], exc: ChannelError
) -> str:
    """The one retry policy (pipeline.policy.decide_failure); "not done" goes back to `pending`,
    "maybe done" stays `applying` and is only repeated when repeating is harmless (not a reply)."""
    comment_id, revision, state = decision
    if isinstance(exc, AuthExpiredError):
        try:
            await adapter.refresh_auth()
        except PermanentError as refused:
            return await _finish(ctx, comment_id, revision, state, error=str(refused))
        await _release(ctx, decision)
        raise Retry(defer=1) from exc
    job_try = int(ctx.get("job_try", 1))
    outcome = decide_failure(job_try - 1, exc, APPLY_LIMITS, now=now_of(ctx))
    unknown = isinstance(exc, OutcomeUnknownError)
    if outcome.dead or (unknown and state == "replied"):  # a reply is not idempotent on WeChat/Weibo
        error = f"{OUTCOME_UNKNOWN}{exc}" if unknown else str(exc)
        return await _finish(ctx, comment_id, revision, state, error=error)
    if not outcome.read_back:
        await _release(ctx, decision)
    log.info("comment_apply_retry", comment_id=comment_id, job_try=job_try, error=str(exc))
    raise Retry(defer=outcome.delay) from exc


async def apply_decisions(ctx: dict[str, Any], decisions: list[list[Any]]) -> int:
    """A page's auto-rejections, a few at a time, each as `apply_decision` would carry it out; one
    that must wait (a transient fault, a rate limit) goes on as its own job. Run twice (a crash),
    it redoes nothing: a decision applied is no longer pending. Returns how many were handled."""
    deps: WorkerContext = ctx["context"]
    gate = asyncio.Semaphore(PAGE_APPLY_CONCURRENCY)

    async def one(comment_id: int, revision: int, state: str) -> None:
        async with gate:
            try:
                await apply_decision({**ctx, "job_try": 1}, comment_id, revision, state)
            except Retry as retry:
                defer = (retry.defer_score or 0) / 1000
                await enqueue_apply(deps.redis, comment_id, revision, state, defer_seconds=defer)

    outcomes = await asyncio.gather(*(one(*decision) for decision in decisions), return_exceptions=True)
    failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failed:  # arq runs the job again; what was applied meanwhile is skipped then
        raise failed[0]
    return len(decisions)


async def _release(ctx: dict[str, Any], decision: tuple[int, int, str]) -> None:
    """The platform said "not done": the next attempt starts from `pending` again."""
    deps: WorkerContext = ctx["context"]
    comment_id, revision, state = decision
    async with deps.db.transaction() as session:
        await session.exec(
            update(Comment)
            .where(
                col(Comment.id) == comment_id,
                col(Comment.revision) == revision,
                col(Comment.state) == state,
                col(Comment.apply_state) == ApplyState.APPLYING,
            )
            .values(apply_state=ApplyState.PENDING, updated_at=utcnow())
        )


def _applicable(comment: Comment, revision: int, state: str) -> bool:
    return (
        comment.revision == revision
        and comment.state == state
        and comment.apply_state in UNFINISHED
        and state in ACTIONS
    )


async def _finish(
    ctx: dict[str, Any], comment_id: int, revision: int, state: str, *, error: str | None
) -> str:
    deps: WorkerContext = ctx["context"]
    outcome = ApplyState.FAILED if error else ApplyState.APPLIED
    async with deps.db.transaction() as session:
        result = await session.exec(
            update(Comment)
            .where(
                col(Comment.id) == comment_id,
                col(Comment.revision) == revision,
                col(Comment.state) == state,
                col(Comment.apply_state).in_(UNFINISHED),
            )
            .values(apply_state=outcome, apply_error=error, updated_at=utcnow())
        )
        if result.rowcount != 1:
            return "superseded"
        audit.record(
            session,
            actor=WORKER,
            action="comment.applied" if error is None else "comment.apply_failed",
            object_type="comment",
            object_id=comment_id,
            revision=revision,
            state=state,
            error=error,
        )
        await notify(
            session,
            key=f"comment-card-update:{comment_id}:{revision}:{state}:{outcome.value}",
            chat_id=deps.settings.moderation_chat_id,
            text=f"评论 #{comment_id} 处理结果更新",
            payload={"kind": CARD_UPDATE_KIND, "comment_id": comment_id},
        )
    log_event = log.warning if error else log.info
    log_event("comment_apply_" + outcome.value, comment_id=comment_id, state=state, error=error)
    return outcome.value


async def reconcile_comment_decisions(ctx: dict[str, Any]) -> int:
    """Cron: decisions whose apply job was lost (Redis down at enqueue, a worker killed mid-call)
    are enqueued again."""
    deps: WorkerContext = ctx["context"]
    cutoff = utcnow() - timedelta(seconds=STALE_APPLY_SECONDS)
    async with deps.db.transaction() as session:
        rows = (
            await session.exec(
                select(Comment.id, Comment.revision, Comment.state).where(
                    col(Comment.apply_state).in_(UNFINISHED), col(Comment.updated_at) < cutoff
                )
            )
        ).all()
    for comment_id, revision, state in rows:
        assert comment_id is not None
        await enqueue_apply(deps.redis, comment_id, revision, state)
    return len(rows)


async def remind_reply_deadlines(ctx: dict[str, Any]) -> int:
    """Cron: reminders before a reply is due, and an alert once it is overdue (once each)."""
    deps: WorkerContext = ctx["context"]
    async with deps.db.transaction() as session:
        return await remind_replies(
            session,
            moderation_chat_id=deps.settings.moderation_chat_id,
            officer_chat_id=deps.settings.officer_chat_id,
            now=utcnow(),
        )


FUNCTIONS = [
    func(poll_comments, keep_result=0),
    func(poll_account_comments, keep_result=0, max_tries=3),
    func(apply_decision, keep_result=0, max_tries=MAX_APPLY_TRIES + 2),
    func(apply_decisions, name=APPLY_PAGE_JOB, keep_result=0, max_tries=3),
    func(reconcile_comment_decisions, keep_result=0),
    func(remind_reply_deadlines, keep_result=0),
]

CRON_JOBS = [
    # Only a tick: the platforms are called when an intake row is due (cadence, rate-limit reset).
    cron(poll_comments, second=set(range(0, 60, 5)), unique=True, run_at_startup=True),
    cron(reconcile_comment_decisions, second={20}, unique=True),
    cron(remind_reply_deadlines, minute=set(range(0, 60, 10)), second={40}, unique=True),
]
