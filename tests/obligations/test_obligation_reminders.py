"""Reminders and escalation reach the chat outbox as one digest per item and stage, exactly once,
even with two workers at once; a unit's own chat gets only its scope."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from syndicator.db import Database, open_database
from syndicator.models import Notification, ObligationState
from syndicator.obligations.reminders import Due, digest_text, run_clock
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
    assert queued == [0, 1, 0, 1, 1, 0]  # one digest per stage, however many targets
    keys = await _keys(db)
    assert len(keys) == len(set(keys)) == 3
    assert {k.split(":")[2] for k in keys} == {"4h", "1h", "overdue"}
    assert {o.state for o in await obligations(db)} == {ObligationState.OVERDUE}
    assert all(set(o.reminders_sent) == {"4h", "1h", "overdue"} for o in await obligations(db))
    async with db.transaction() as session:
        sent = (await session.exec(select(Notification))).all()
    overdue = next(n for n in sent if ":overdue:" in n.key)
    assert "【转载超时】" in overdue.text and "2026-11-26 08:40" in overdue.text
    assert f"{len(org.units) - 1} 个单位 {targets} 个账号仍未转载" in overdue.text
    assert "· 南京市人民政府：客户端、微信公众号" in overdue.text
    assert sorted(overdue.payload["obligation_ids"]) == sorted(o.id for o in await obligations(db))


async def test_a_restart_after_a_missed_window_sends_only_the_escalation(db: Database, org: Org) -> None:
    await open_item(db)
    async with db.transaction() as session:
        await run_clock(session, now=DEADLINE + timedelta(hours=2), config=CONFIG)
    async with db.transaction() as session:
        await run_clock(session, now=DEADLINE + timedelta(hours=3), config=CONFIG)
    keys = await _keys(db)
    assert len(keys) == 1 and ":overdue:" in keys[0]


async def test_a_deadline_with_seconds_is_never_shown_later_than_it_is(db: Database, org: Org) -> None:
    published = datetime(2026, 11, 25, 22, 24, 48, tzinfo=UTC)  # 06:24:48 in Beijing
    await open_item(db, item_in(published_at=published), now=published)
    async with db.transaction() as session:
        await run_clock(session, now=published + timedelta(hours=8), config=CONFIG)  # the T-4h reminder
        texts = (await session.exec(select(Notification.text))).all()
    assert texts and all("须在 2026-11-26 18:24:48（北京时间）前完成" in t for t in texts)


async def test_a_units_own_chat_gets_only_its_scope(db: Database, org: Org) -> None:
    await open_item(db)
    config = replace(CONFIG, unit_chats=(("南京市人民政府", -2002), ("不存在的单位", -3003)))
    async with db.transaction() as session:
        assert await run_clock(session, now=DEADLINE, config=config) == 2
    async with db.transaction() as session:
        sent = {n.chat_id: n for n in (await session.exec(select(Notification))).all()}
    assert set(sent) == {CONFIG.chat_id, -2002}
    own = sent[-2002].text
    assert "南京市人民政府" in own and "江宁区人民政府" in own  # the unit and its subordinates
    assert "浙江" not in own and "江苏省人民政府：" not in own
    assert "浙江省人民政府" in sent[CONFIG.chat_id].text


def test_a_digest_for_thousands_of_accounts_fits_a_chat_message() -> None:
    due = [Due(n, n, f"第{n:04d}县人民政府", "wechat") for n in range(3000)]
    text = digest_text(
        "1h", title="国务院关于某事项的通知", doc_number="国发〔2026〕1号", deadline=DEADLINE, due=due
    )
    assert len(text) < 4096 and "3000 个单位 3000 个账号" in text and "……另有 2960 个单位" in text
