"""Reminders and escalation reach the chat outbox exactly once, even with two workers at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from syndicator.db import Database, open_database
from syndicator.models import Notification, ObligationState
from syndicator.obligations.reminders import run_clock
from tests.obligations.conftest import CONFIG, EVENING, Org, item_in, obligations, open_item

DEADLINE = EVENING + timedelta(hours=12)


async def _two_workers(database_url: str, now: datetime) -> int:
    workers = [open_database(database_url), open_database(database_url)]

    async def tick(db: Database) -> int:
        async with db.transaction() as session:
            return await run_clock(session, now=now, config=CONFIG)

    try:
        return sum(await asyncio.gather(*(tick(db) for db in workers)))
    finally:
        for db in workers:
            await db.dispose()


async def _keys(db: Database) -> list[str]:
    async with db.transaction() as session:
        return list((await session.exec(select(Notification.key))).all())


async def test_reminders_and_escalation_sent_once_with_two_concurrent_workers(
    db: Database, org: Org, database_url: str
) -> None:
    await open_item(db)
    targets = len(await obligations(db))
    moments = [
        DEADLINE - timedelta(hours=5),
        DEADLINE - timedelta(hours=4),
        DEADLINE - timedelta(hours=3),
        DEADLINE - timedelta(minutes=59),
        DEADLINE,
        DEADLINE + timedelta(minutes=1),
    ]
    queued = [await _two_workers(database_url, now) for now in moments]
    assert queued == [0, targets, 0, targets, targets, 0]
    keys = await _keys(db)
    assert len(keys) == len(set(keys)) == 3 * targets
    some = (await obligations(db))[0]
    assert {
        f"obligation:{some.id}:remind:4h",
        f"obligation:{some.id}:remind:1h",
        f"obligation:{some.id}:overdue",
    } <= set(keys)
    assert {o.state for o in await obligations(db)} == {ObligationState.OVERDUE}
    async with db.transaction() as session:
        texts = (
            await session.exec(select(Notification.text).where(Notification.key.endswith(":overdue")))
        ).all()
    assert all("【转载超时】" in t and "2026-11-26 08:40" in t for t in texts)


async def test_a_restart_after_a_missed_window_sends_only_the_escalation(db: Database, org: Org) -> None:
    await open_item(db)
    async with db.transaction() as session:
        await run_clock(session, now=DEADLINE + timedelta(hours=2), config=CONFIG)
    async with db.transaction() as session:
        await run_clock(session, now=DEADLINE + timedelta(hours=3), config=CONFIG)
    keys = await _keys(db)
    assert keys and all(k.endswith(":overdue") for k in keys)
    assert len(keys) == len(await obligations(db))


async def test_a_deadline_with_seconds_is_never_shown_later_than_it_is(db: Database, org: Org) -> None:
    published = datetime(2026, 11, 25, 22, 24, 48, tzinfo=UTC)  # 06:24:48 in Beijing
    await open_item(db, item_in(published_at=published), now=published)
    async with db.transaction() as session:
        await run_clock(session, now=published + timedelta(hours=8), config=CONFIG)  # the T-4h reminder
        texts = (await session.exec(select(Notification.text))).all()
    assert texts and all("须在 2026-11-26 18:24:48（北京时间）前完成" in t for t in texts)
