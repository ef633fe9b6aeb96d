"""The fan-out jobs: publish one publication, follow an asynchronous one.

Each job takes an id, reloads from the database and checks the state before acting. Intent
(`sending`) is committed before the remote call, so a crash between intent and answer leaves a
publication the next attempt reads back from the platform instead of posting it again.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import structlog
from arq import Retry
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import (
    ACCOUNT_MISCONFIGURED,
    AccountMisconfiguredError,
    AuthExpiredError,
    ChannelAdapter,
    ChannelError,
    OutcomeUnknownError,
    PermanentError,
    PublishResult,
    RateLimitedError,
)
from channels.http import TRANSPORT_ERRORS, transport_error
from syndicator import audit, events, metrics
from syndicator.accounts import runtime_problems
from syndicator.context import WorkerContext
from syndicator.events import PublicationPublished
from syndicator.models import (
    AccountStatus,
    Article,
    ArticleState,
    ChannelAccount,
    Publication,
    PublicationState,
    utcnow,
)
from syndicator.notify import notify
from syndicator.pipeline.policy import INTERNAL_ERROR, STALLED, Decision, backoff_seconds, decide_failure
from syndicator.pipeline.records import WORKER, load_for_job, mark, store_remote
from syndicator.pipeline.sending import SendPlan, claim, send
from syndicator.pipeline.state import transition
from syndicator.queue import enqueue_poll, enqueue_withdraw

log = structlog.get_logger(__name__)

# The code adapters give a credential that only a person can renew (a Weibo token).
REAUTHORIZE = "reauthorize"
# A WeChat publish that has not completed after this many polls is reported as failed.
MAX_POLLS = 720
# The account was disabled or archived after the publication was planned: nothing is sent.
ACCOUNT_INACTIVE = "account_inactive"


async def publish_publication(ctx: dict[str, Any], publication_id: int) -> str:
    deps: WorkerContext = ctx["context"]
    try:
        async with deps.db.transaction() as session:
            plan = await claim(session, publication_id)
        if plan is None:
            return "nothing to do"
        adapter: ChannelAdapter | None = None
        try:
            adapter = _usable_adapter(deps, plan.account)
            result = await send(adapter, plan)
        except ChannelError as exc:
            return await _handle_failure(deps, adapter, plan, exc)
        except TRANSPORT_ERRORS as exc:  # one an adapter let through: the one mapping decides
            error = transport_error(exc, plan.account.platform, what="publish")
            return await _handle_failure(deps, adapter, plan, error)
        except RedisError as exc:
            # Our own Redis (token cache, progress notes, quota) went away mid-send: infrastructure,
            # not an adapter bug. The platform may have the post: retry, reading back first.
            reason = f"redis unavailable: {type(exc).__name__}"
            error = OutcomeUnknownError(reason, platform=plan.account.platform)
            return await _handle_failure(deps, adapter, plan, error)
        except (OperationalError, DBAPIError):
            raise  # our database went away mid-send (progress notes): the retry below, not a failure
        except Exception as exc:  # an adapter bug: a typed failure an operator sees, never a stuck row
            log.exception("publish_unexpected_error", publication_id=publication_id)
            return await _handle_failure(deps, adapter, plan, internal_error(exc))
        async with deps.db.transaction() as session:
            if result is None:
                state = await _record_never_landed(session, plan)
            else:
                state = await _record_success(session, plan, result)
        if state == PublicationState.PUBLISHED and plan.created_at is not None:
            await _observe_latency(deps, plan.account.platform, plan.created_at)
        await _follow_up(deps, publication_id, state)
        return state
    except (OperationalError, DBAPIError, ConnectionError) as exc:
        # The database went away; the publication is unchanged or still `sending`, both safe to redo.
        log.warning("publish_database_unavailable", publication_id=publication_id, error=str(exc))
        raise Retry(defer=backoff_seconds(ctx.get("job_try", 1), base=1, cap=30)) from exc


def _usable_adapter(deps: WorkerContext, account: ChannelAccount) -> ChannelAdapter:
    """The account's adapter, or a PermanentError: the account is not active, or
    AccountMisconfiguredError naming what to fix."""
    if account.status != AccountStatus.ACTIVE:
        message = f"account {account.name!r} is {account.status}"
        raise PermanentError(message, code=ACCOUNT_INACTIVE, platform=account.platform)
    if problems := runtime_problems(account):
        raise AccountMisconfiguredError("; ".join(problems), platform=account.platform)
    return deps.adapter_for(account)


def internal_error(exc: Exception) -> PermanentError:
    """An unexpected exception as a failure the dead-letter view shows (the class names the bug).

    The platform may have taken the post before the exception: a retry reads back first
    (publications.retry_publication)."""
    return PermanentError(f"{type(exc).__name__}: {exc}"[:500], code=INTERNAL_ERROR)


async def poll_publication(ctx: dict[str, Any], publication_id: int) -> str:
    deps: WorkerContext = ctx["context"]
    loaded = await load_for_job(deps, publication_id, PublicationState.SUBMITTED)
    if loaded is None:
        return "nothing to do"
    publication, account = loaded
    adapter = deps.adapter_for(account)
    submitted = PublishResult(
        remote_id=publication.remote_id or "",
        url=publication.remote_url,
        state="submitted",
        details=publication.remote_details,
    )
    try:
        result = await adapter.check_status(submitted)
    except PermanentError as exc:
        async with deps.db.transaction() as session:
            await _fail(
                session,
                publication_id,
                exc.code,
                exc.message,
                expect=PublicationState.SUBMITTED,
                alert_chat=deps.settings.moderation_chat_id,
            )
        return PublicationState.FAILED
    except RateLimitedError as exc:  # the credential's quota is spent: ask again after its reset
        log.info("poll_deferred", publication_id=publication_id, error=str(exc))
        raise Retry(defer=exc.retry_after) from exc
    except ChannelError as exc:
        log.info("poll_retry", publication_id=publication_id, error=str(exc))
        result = submitted
    if result.state == "submitted":
        if ctx.get("job_try", 1) >= MAX_POLLS:
            async with deps.db.transaction() as session:
                await _fail(
                    session,
                    publication_id,
                    "never_completed",
                    "the platform never finished publishing",
                    alert_chat=deps.settings.moderation_chat_id,
                )
            return PublicationState.FAILED
        raise Retry(defer=deps.settings.async_publish_poll_seconds)
    async with deps.db.transaction() as session:
        state = await _record_published(session, publication_id, result, expect=PublicationState.SUBMITTED)
    if state == PublicationState.PUBLISHED:
        await _observe_latency(deps, account.platform, publication.created_at)
    await _follow_up(deps, publication_id, state)
    return state


async def _observe_latency(deps: WorkerContext, platform: str, since: datetime) -> None:
    await metrics.observe_publish_latency(deps.redis, platform, (utcnow() - since).total_seconds())


async def _follow_up(deps: WorkerContext, publication_id: int, state: str) -> None:
    """Queue what the state a job recorded needs next (Effect.ENQUEUE_POLL, Effect.ENQUEUE_WITHDRAW)."""
    if state == PublicationState.SUBMITTED:
        await enqueue_poll(deps.redis, publication_id, 0, defer_by=deps.settings.async_publish_poll_seconds)
    elif state == PublicationState.WITHDRAWING:
        await enqueue_withdraw(deps.redis, publication_id, 0)


async def _record_success(session: AsyncSession, plan: SendPlan, result: PublishResult) -> str:
    if result.state == "submitted":
        publication = await _locked(session, plan.publication_id)
        if publication.state != PublicationState.SENDING:
            return publication.state
        store_remote(publication, result)
        mark(session, publication, PublicationState.SUBMITTED, remote_id=result.remote_id)
        state: str = PublicationState.SUBMITTED
    else:
        state = await _record_published(session, plan.publication_id, result, expect=PublicationState.SENDING)
    if plan.previous_id is not None:  # Effect.SUPERSEDE_PREVIOUS
        previous = await _locked(session, plan.previous_id)
        # Unless it left `published` meanwhile (an article withdrawn while this was sent: removed).
        if previous.state == PublicationState.PUBLISHED:
            mark(session, previous, PublicationState.SUPERSEDED, by=plan.publication_id)
    return state


async def _record_never_landed(session: AsyncSession, plan: SendPlan) -> str:
    """A withdrawn article's send in doubt, read back: the platform has no post, nothing to remove."""
    publication = await _locked(session, plan.publication_id)
    if publication.state != PublicationState.SENDING:
        return publication.state
    message = "the article was withdrawn while a send was in doubt; the platform has no post"
    mark(session, publication, PublicationState.WITHDRAWN, code="article_withdrawn", message=message)
    return PublicationState.WITHDRAWN


async def _record_published(
    session: AsyncSession, publication_id: int, result: PublishResult, *, expect: str
) -> str:
    publication = await _locked(session, publication_id)
    if publication.state != expect:
        return publication.state
    publication.published_at = utcnow()
    store_remote(publication, result)
    mark(session, publication, PublicationState.PUBLISHED, remote_id=result.remote_id, url=result.url)
    log.info("publication_published", publication_id=publication.id, remote_id=result.remote_id)
    await events.emit(session, PublicationPublished(publication_id))  # obligations fulfil targets
    article = await session.get(Article, publication.article_id)
    if article is not None and article.state == ArticleState.WITHDRAWN:
        # Withdrawn while this was being sent: the post that just appeared must go again.
        return mark(session, publication, PublicationState.WITHDRAWING, by="article.withdrawn").target
    return PublicationState.PUBLISHED


async def _handle_failure(
    deps: WorkerContext, adapter: ChannelAdapter | None, plan: SendPlan, exc: ChannelError
) -> str:
    if isinstance(exc, AuthExpiredError) and adapter is not None:
        try:
            await adapter.refresh_auth()
        except PermanentError as refresh_error:
            exc = refresh_error
    async with deps.db.transaction() as session:
        publication = await _locked(session, plan.publication_id)
        if publication.state != PublicationState.SENDING:
            return publication.state
        decision = decide_failure(publication.attempts, exc, deps.settings, now=utcnow())
        publication.attempts = decision.attempts
        await metrics.count_channel_error(
            deps.redis, plan.account.platform, exc.code, retried=not decision.dead
        )
        if decision.dead:
            await _fail(
                session,
                plan.publication_id,
                decision.code,
                decision.message,
                alert_chat=deps.settings.moderation_chat_id,
            )
            return PublicationState.FAILED
        _schedule_retry(session, publication, exc, decision)
    log.info(
        "publish_retry",
        publication_id=plan.publication_id,
        error=str(exc),
        delay=decision.delay,
        error_kind=type(exc).__name__,
    )
    raise Retry(defer=decision.delay)


def _schedule_retry(
    session: AsyncSession, publication: Publication, exc: ChannelError, decision: Decision
) -> None:
    """A platform that said "not done" is sent to again (`pending`); "maybe done" stays `sending`,
    so the next claim reads back first."""
    publication.next_attempt_at = decision.next_attempt_at
    detail: dict[str, Any] = {
        "error": str(exc),
        "attempts": publication.attempts,
        "delay_seconds": decision.delay,
    }
    if not decision.read_back:
        mark(session, publication, PublicationState.PENDING, code=exc.code, message=str(exc), **detail)
        return
    publication.error_code = exc.code  # the state stays: no transition, only what happened
    publication.error_message = str(exc)
    publication.updated_at = utcnow()
    action = transition(PublicationState.SENDING, PublicationState.PENDING).action
    audit.record(
        session, actor=WORKER, action=action, object_type="publication", object_id=publication.id, **detail
    )


async def _fail(
    session: AsyncSession,
    publication_id: int,
    code: str | None,
    message: str,
    *,
    alert_chat: int | None,
    expect: str | None = None,
) -> None:
    """The dead-letter state: recorded, audited, and told to the moderators' chat."""
    publication = await _locked(session, publication_id)
    if expect is not None and publication.state != expect:
        return
    mark(session, publication, PublicationState.FAILED, code=code, message=message)
    account = await session.get(ChannelAccount, publication.account_id)
    article = await session.get(Article, publication.article_id)
    if account is not None and code == REAUTHORIZE:
        account.needs_reauth = True  # every later post would fail the same way until someone signs in again
    await notify(
        session,
        key=_alert_key(publication, code, message),
        chat_id=alert_chat,
        text=failure_alert(article.title if article else "", account.name if account else "", code, message),
        payload={"publication_id": publication.id},
    )
    log.warning("publication_failed", publication_id=publication.id, code=code, message=message)


async def escalate_stalled(
    session: AsyncSession, publication_id: int, state: str, passes: int, *, alert_chat: int | None
) -> None:
    """The reconciler re-enqueued it `passes` times and it never moved: stop, and tell a person."""
    message = (
        f"no progress in {state} after {passes} reconciler passes (its job keeps failing before it "
        "records anything; see the worker log)"
    )
    await _fail(session, publication_id, STALLED, message, alert_chat=alert_chat, expect=state)


def _alert_key(publication: Publication, code: str | None, message: str) -> str:
    """One chat message per failed publication; a misconfigured or inactive account is told once a
    day per problem, however many publications it stops."""
    if code in (ACCOUNT_MISCONFIGURED, ACCOUNT_INACTIVE):
        digest = hashlib.sha256(message.encode()).hexdigest()[:16]
        problem = "misconfigured" if code == ACCOUNT_MISCONFIGURED else "inactive"
        return f"account:{publication.account_id}:{problem}:{utcnow().date()}:{digest}"
    return f"publication:{publication.id}:failed:{publication.generation}"


def failure_alert(title: str, account: str, code: str | None, message: str) -> str:
    if code == ACCOUNT_MISCONFIGURED:
        return (
            f"⚙️ 账号「{account}」配置有误，发布已停止（《{title}》等）：{message}\n"
            f"修正后（`syndicator accounts update`）用 "
            f"`syndicator publications retry --account {account}` 重新发送。"
        )
    if code == ACCOUNT_INACTIVE:
        return (
            f"⏸ 账号「{account}」已停用，未发布（《{title}》等）。"
            f"启用后可用 `syndicator publications retry --account {account}` 重新发送。"
        )
    if code == REAUTHORIZE:
        return f"🔑 账号「{account}」授权已失效，需要重新授权后才能发布。《{title}》未发布。"
    return (
        f"❌ 《{title}》发布到「{account}」失败（{code}）：{message}\n"
        f"处理后可用 `syndicator publications retry` 重新发送。"
    )


async def _locked(session: AsyncSession, publication_id: int) -> Publication:
    publication = await session.get(Publication, publication_id, with_for_update=True)
    assert publication is not None
    return publication
