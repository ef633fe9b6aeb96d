"""Silence warned before the 14-day veto (issue 19 §3): stages, once each, as digests; county
accounts per missed working day; a unit's own chat; the dashboard's countdown."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
from sqlmodel import select

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import Article, ChannelAccount, Notification, Publication
from syndicator.obligations.clock import SHANGHAI
from syndicator.obligations.silence import due_stage, warn_silence
from syndicator.workdays import WorkCalendar
from tests.obligations.conftest import CONFIG, Org
from tests.obligations.desk_support import sign_in
from tests.support import version_of

WORKDAYS = WorkCalendar().is_working_day


def beijing(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


async def publish(db: Database, org: Org, account: str, at: datetime) -> None:
    async with db.transaction() as session:
        owner = await session.get(ChannelAccount, org.accounts[account])
        assert owner is not None
        article = Article(
            source_portal="p",
            external_id=f"{account}{at}",
            unit_id=owner.unit_id,
            title="t",
            url="https://x.gov.cn/",
        )
        session.add(article)
        await session.flush()
        version = version_of(article, content_hash=str(at))
        session.add(version)
        await session.flush()
        session.add(
            Publication(
                article_id=article.id,
                version_id=version.id,
                account_id=org.accounts[account],
                state="published",
                published_at=at,
            )
        )


async def opened_on(db: Database, at: datetime) -> None:
    async with db.transaction() as session:
        for account in (await session.exec(select(ChannelAccount))).all():
            account.created_at = at
            session.add(account)


async def tick(db: Database, now: datetime, config=CONFIG) -> int:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await warn_silence(session, now=now, config=config, is_working_day=WORKDAYS)


async def sent(db: Database) -> list[Notification]:
    async with db.transaction() as session:
        return list((await session.exec(select(Notification).order_by(Notification.id))).all())


def test_the_highest_stage_reached() -> None:
    assert [due_stage(d, (7, 10)) for d in (6, 7, 9, 10, 30)] == [None, 7, 7, 10, 10]


async def test_stages_once_each_and_county_working_days(db: Database, org: Org) -> None:
    await opened_on(db, beijing(15, 8))  # a Sunday
    await publish(db, org, "杭州市人民政府-wechat", beijing(10, 9))
    # Tuesday 11-17: Hangzhou quiet 7 days; Jiangning (county) missed Monday 11-16.
    assert await tick(db, beijing(17)) == 2
    assert await tick(db, beijing(17, 11)) == 0  # once per stage
    first = await sent(db)
    week = next(n for n in first if n.payload["stage"] == "day7")
    assert "已连续 7 天以上未更新" in week.text and "杭州市人民政府「杭州市人民政府-wechat」" in week.text
    assert "距单项否决还剩 7 天" in week.text
    county = next(n for n in first if n.payload["stage"] == "workday:2026-11-16")
    assert "11-16（工作日）没有更新" in county.text and "江宁区人民政府-wechat" in county.text
    assert "南京市人民政府" not in county.text  # a city account is not held to the daily rule
    # Friday 11-20: Hangzhou reaches day 10; Jiangning missed Thursday too.
    assert await tick(db, beijing(20)) == 2
    assert {n.payload["stage"] for n in (await sent(db))[2:]} == {"day10", "workday:2026-11-19"}
    # An update starts a new silence, warned afresh a week later; the others now reach day 10.
    await publish(db, org, "杭州市人民政府-wechat", beijing(20, 11))
    assert await tick(db, beijing(27, 12)) == 3
    late = {n.payload["stage"]: n for n in (await sent(db))[4:]}
    assert set(late) == {"day7", "day10", "workday:2026-11-26"}
    assert late["day7"].payload["account_ids"] == [org.accounts["杭州市人民政府-wechat"]]
    assert org.accounts["杭州市人民政府-wechat"] not in late["day10"].payload["account_ids"]


async def test_a_units_chat_gets_its_scope_only(db: Database, org: Org) -> None:
    await opened_on(db, beijing(15, 8))
    await publish(db, org, "杭州市人民政府-wechat", beijing(10, 9))
    config = replace(CONFIG, unit_chats=(("江苏省人民政府", -2002),))
    assert await tick(db, beijing(17), config) == 3  # both digests to the officers, the county one to Jiangsu
    own = [n for n in await sent(db) if n.chat_id == -2002]
    assert len(own) == 1 and own[0].payload["stage"] == "workday:2026-11-16"


async def test_the_dashboard_counts_down_to_the_veto(settings: Settings, db: Database, org: Org) -> None:
    await opened_on(db, beijing(15, 8))
    await publish(db, org, "杭州市人民政府-wechat", beijing(10, 9))
    with BackgroundServer(create_app(settings)) as running:
        async with httpx.AsyncClient(base_url=running.url) as client:
            await sign_in(client, "zj-officer", org.tokens["zj-officer"])
            page = await client.get("/dashboard", params={"as_of": "2026-11-20T10:00"})
    section = page.text.split('id="silence"')[1].split("</section>")[0]
    assert "未更新倒计时（1）" in section and "还剩 4 天" in section and "杭州市人民政府-wechat" in section


async def test_without_a_chat_the_stages_wait(db: Database, org: Org) -> None:
    await opened_on(db, beijing(15, 8))
    await publish(db, org, "杭州市人民政府-wechat", beijing(10, 9))
    assert await tick(db, beijing(17), replace(CONFIG, chat_id=None)) == 0
    assert await tick(db, beijing(17, 11)) == 2  # a chat configured later still hears of them
