"""Comment intake from the database: which feeds and articles to read, when, and from where.

Every cursor lives in `comment_intake` (models/moderation.py), committed with the page it
covers, so a Redis flush or a killed worker loses no comment and repeats none (the intake
deduplicates anyway). Rows are opened from the database too: one per account feed, one per
published article on a platform without a feed (WeChat). Each row carries its next poll time:
the cadence after a read, the platform's reset after a rate-limit answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import structlog
from sqlalchemy import exists, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import (
    AuthExpiredError,
    ChannelAdapter,
    ChannelError,
    CommentPage,
    PermanentError,
    Platform,
    PublishResult,
    RateLimitedError,
)
from channels.registry import capabilities_of
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import AccountStatus, ChannelAccount, CommentIntake, Publication, PublicationState
from syndicator.moderation.cadence import next_poll
from syndicator.moderation.intake import IngestResult

log = structlog.get_logger(__name__)

MAX_PAGES_PER_RUN = 50  # one read of an intake takes at most this many pages; the next goes on
Screened = TypeVar("Screened")


def has_feed(platform: str) -> bool:
    return capabilities_of(Platform(platform)).comment_feed


async def open_intakes(
    session: AsyncSession,
    now: datetime,
    target_of: Callable[[ChannelAccount, PublishResult], str | None],
    *,
    stop_days: float,
) -> int:
    """Rows for active accounts' feeds and for articles published in the last `stop_days` that
    have none yet (older ones would stop after one read)."""
    accounts = (
        await session.exec(select(ChannelAccount).where(ChannelAccount.status == AccountStatus.ACTIVE))
    ).all()
    opened = (await session.exec(select(CommentIntake.account_id, CommentIntake.target))).all()
    have = {(account_id, target) for account_id, target in opened}
    added = 0
    for account in (a for a in accounts if has_feed(a.platform) and (a.id, "") not in have):
        assert account.id is not None  # a stored row has its key
        session.add(CommentIntake(account_id=account.id, target="", started_at=now, next_poll_at=now))
        added += 1
    by_id = {a.id: a for a in accounts if not has_feed(a.platform)}
    if by_id:
        has_row = exists().where(col(CommentIntake.publication_id) == col(Publication.id))
        published = await session.exec(
            select(Publication).where(
                Publication.state == PublicationState.PUBLISHED,
                col(Publication.account_id).in_(list(by_id)),
                col(Publication.published_at) >= now - timedelta(days=stop_days),
                ~has_row,
            )
        )
        for publication in published.all():
            if not publication.remote_id:
                continue
            account = by_id[publication.account_id]
            assert account.id is not None  # a stored row has its key
            result = PublishResult(publication.remote_id, details=publication.remote_details or {})
            target = target_of(account, result)
            if target is None or (account.id, target) in have:
                continue
            started = publication.published_at or now
            session.add(
                CommentIntake(
                    account_id=account.id,
                    target=target,
                    publication_id=publication.id,
                    started_at=started,
                    next_poll_at=now,
                )
            )
            have.add((account.id, target))
            added += 1
    return added


async def due_accounts(session: AsyncSession, now: datetime) -> list[int]:
    rows = await session.exec(
        select(CommentIntake.account_id)
        .join(ChannelAccount, col(ChannelAccount.id) == CommentIntake.account_id)
        .where(
            col(CommentIntake.stopped_at).is_(None),
            col(CommentIntake.next_poll_at) <= now,
            ChannelAccount.status == AccountStatus.ACTIVE,
        )
        .distinct()
    )
    return list(rows.all())


async def due_intakes(session: AsyncSession, account_id: int, now: datetime) -> list[CommentIntake]:
    rows = await session.exec(
        select(CommentIntake)
        .where(
            CommentIntake.account_id == account_id,
            col(CommentIntake.stopped_at).is_(None),
            col(CommentIntake.next_poll_at) <= now,
        )
        .order_by(col(CommentIntake.next_poll_at))
    )
    return list(rows.all())


async def read_intake(
    db: Database,
    adapter: ChannelAdapter,
    account: ChannelAccount,
    intake: CommentIntake,
    screen: Callable[[CommentPage], Screened],
    store: Callable[[AsyncSession, Screened], Awaitable[IngestResult]],
    *,
    now: datetime,
    settings: Settings,
) -> tuple[list[IngestResult], RateLimitedError | None]:
    """Read one feed or article from its cursor, each page committed with the cursor after it.
    `screen` (CPU only) runs on the next page while `store` waits for the database on this one.

    Returns the pages stored and, when a rate limit ended the read, its error (the caller defers
    the account; the row is not rescheduled here). Other platform errors end this read and put
    the row on its cadence; a PermanentError on an article (deleted, comments closed) stops it.
    """
    cursor = intake.cursor
    results: list[IngestResult] = []
    error: ChannelError | None = None
    reading = _start_read(adapter, intake, cursor, screen)
    try:
        for pages_left in range(MAX_PAGES_PER_RUN - 1, -1, -1):
            try:
                page, screened = await reading
            except AuthExpiredError:
                await adapter.refresh_auth()
                reading = _start_read(adapter, intake, cursor, screen)
                continue
            except RateLimitedError as exc:
                return results, exc
            except ChannelError as exc:
                error = exc
                log.warning(
                    "comment_poll_failed", account_id=account.id, target=intake.target, error=str(exc)
                )
                break
            last = not page.comments or page.cursor == cursor or not pages_left
            if not last:
                # The next page is read and screened while this one is stored: neither moves the
                # cursor (it moves with this page's commit), so a failed commit drops it unused.
                reading = _start_read(adapter, intake, page.cursor, screen)
            try:
                async with db.transaction() as session:
                    results.append(await store(session, screened))
                    await session.exec(
                        update(CommentIntake)
                        .where(col(CommentIntake.id) == intake.id)
                        .values(cursor=page.cursor, polled_at=now)
                    )
            except IntegrityError:  # a push stored the same comment meanwhile: the next read goes on
                log.info("comment_poll_conflict", account_id=account.id, target=intake.target)
                break
            if last:
                break
            cursor = page.cursor
    finally:
        _drop(reading)
    await _schedule(db, intake, now, settings, error)
    return results, None


def _start_read(
    adapter: ChannelAdapter,
    intake: CommentIntake,
    cursor: str | None,
    screen: Callable[[CommentPage], Screened],
) -> asyncio.Task[tuple[CommentPage, Screened]]:
    async def read_and_screen() -> tuple[CommentPage, Screened]:
        page = await _read(adapter, intake, cursor)
        return page, screen(page)

    return asyncio.create_task(read_and_screen())


def _drop(reading: asyncio.Task[Any]) -> None:
    """A read the loop will not use: cancelled, or its error taken (else asyncio logs it as lost)."""
    if not reading.done():
        reading.cancel()
    elif not reading.cancelled():
        reading.exception()


async def _read(adapter: ChannelAdapter, intake: CommentIntake, cursor: str | None) -> CommentPage:
    if intake.target:
        return await adapter.list_article_comments(intake.target, cursor)
    return await adapter.list_comments(cursor)


async def _schedule(
    db: Database, intake: CommentIntake, now: datetime, settings: Settings, error: ChannelError | None
) -> None:
    values: dict[str, Any] = {"last_error": str(error) if error else None}
    following = next_poll(intake, now, settings)
    if following is None or (isinstance(error, PermanentError) and intake.target):
        values["stopped_at"] = now
        log.info("comment_intake_stopped", intake_id=intake.id, error=values["last_error"])
    else:
        values["next_poll_at"] = following
    async with db.transaction() as session:
        await session.exec(update(CommentIntake).where(col(CommentIntake.id) == intake.id).values(**values))


async def defer_account(db: Database, account_id: int, until: datetime) -> None:
    """A rate limit: no intake of the account is read before `until` (the platform's reset)."""
    async with db.transaction() as session:
        await session.exec(
            update(CommentIntake)
            .where(
                col(CommentIntake.account_id) == account_id,
                col(CommentIntake.stopped_at).is_(None),
                col(CommentIntake.next_poll_at) < until,
            )
            .values(next_poll_at=until)
        )


async def poll_soon(session: AsyncSession, account_id: int, now: datetime) -> None:
    """Read the account's running feeds and articles at the next tick (after a burst of comments)."""
    await session.exec(
        update(CommentIntake)
        .where(col(CommentIntake.account_id) == account_id, col(CommentIntake.stopped_at).is_(None))
        .values(next_poll_at=now)
    )


async def resume(session: AsyncSession, *, article_id: int, now: datetime) -> int:
    """A moderator asks: read the article's comments again, on the cadence of a new article."""
    publication_ids = select(Publication.id).where(Publication.article_id == article_id)
    result = await session.exec(
        update(CommentIntake)
        .where(col(CommentIntake.publication_id).in_(publication_ids))
        .values(stopped_at=None, resumed_at=now, next_poll_at=now, last_error=None)
    )
    return int(result.rowcount or 0)


async def intake_rows(session: AsyncSession) -> list[dict[str, Any]]:
    """The intake table for people: account, article, state and next read."""
    rows = await session.exec(
        select(CommentIntake, ChannelAccount.name, Publication.article_id)
        .join(ChannelAccount, col(ChannelAccount.id) == CommentIntake.account_id)
        .outerjoin(Publication, col(Publication.id) == CommentIntake.publication_id)
        .order_by(col(CommentIntake.id))
    )
    return [
        {
            "account": name,
            "article": article_id or "(feed)",
            "state": "stopped" if intake.stopped_at else "polling",
            "next_poll_at": "" if intake.stopped_at else intake.next_poll_at.isoformat(timespec="seconds"),
            "polled_at": intake.polled_at.isoformat(timespec="seconds") if intake.polled_at else "",
            "error": intake.last_error or "",
        }
        for intake, name, article_id in rows.all()
    ]
