"""Opening targets, fulfilment (publication, manual repost, evidence), waivers, and past reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from syndicator import admin
from syndicator.db import Database
from syndicator.models import (
    Article,
    AuditEvent,
    ObligationState,
    Publication,
    PublicationState,
    User,
)
from syndicator.obligations.compliance import build_report, compliance_summary
from syndicator.obligations.fulfil import (
    ObligationError,
    detect_manual_reposts,
    fulfil_from_publication,
    record_evidence,
    waive,
)
from syndicator.obligations.matching import RecentPost
from syndicator.obligations.report import ReportQuery
from syndicator.obligations.scope import ScopeError
from syndicator.obligations.service import open_item_from_article
from tests.obligations.conftest import EVENING, Org, item_in, obligations, open_item, target_for
from tests.support import version_of

DEADLINE = EVENING + timedelta(hours=12)


async def test_national_item_obligates_every_account_below_national(db: Database, org: Org) -> None:
    item = await open_item(db)
    rows = await obligations(db)
    assert {r.account_id for r in rows} == set(org.accounts.values())
    assert all(r.deadline_at == DEADLINE and r.state == ObligationState.OPEN for r in rows)
    again = await open_item(db, item_in())  # the same item polled again
    assert again.id == item.id and len(await obligations(db)) == len(rows)


async def test_province_item_obligates_that_provinces_subordinates_only(db: Database, org: Org) -> None:
    await open_item(
        db,
        item_in("js-1", source="www.jiangsu.gov.cn", source_level="province"),
        source_unit_id=org.units["江苏省人民政府"],
    )
    units = {r.unit_id for r in await obligations(db)}
    assert units == {org.units["南京市人民政府"], org.units["江宁区人民政府"]}


async def test_unimportant_item_opens_nothing(db: Database, org: Org) -> None:
    await open_item(db, item_in("news", important=False, category="要闻", doc_number=None))
    assert await obligations(db) == []


async def _publish(db: Database, org: Org, account: str, *, at: timedelta, body: str) -> Publication:
    async with db.transaction() as session:
        article = Article(
            source_portal="www.jiangsu.gov.cn",
            external_id=f"a-{account}",
            unit_id=org.units["南京市人民政府"],
            title="转发国务院办公厅文件",
            url=f"https://www.nanjing.gov.cn/{account}.html",
        )
        session.add(article)
        await session.flush()
        assert article.id is not None
        version = version_of(article, content_hash="h" + account, body_html=body)
        session.add(version)
        await session.flush()
        assert version.id is not None
        publication = Publication(
            article_id=article.id,
            version_id=version.id,
            account_id=org.accounts[account],
            state=PublicationState.PUBLISHED,
            published_at=EVENING + at,
        )
        session.add(publication)
        await session.flush()
        fulfilled = await fulfil_from_publication(session, publication, now=EVENING + at)
    assert len(fulfilled) == 1
    return publication


async def test_publication_referencing_the_item_fulfils_on_time_at_the_exact_deadline(
    db: Database, org: Org
) -> None:
    await open_item(db)
    await _publish(db, org, "南京市人民政府-wechat", at=timedelta(hours=12), body="<p>国办发〔2026〕9号</p>")
    await _publish(
        db,
        org,
        "南京市人民政府-app",
        at=timedelta(hours=12, seconds=1),
        body='<a href="https://www.gov.cn/zhengce/content/govcn-2026-1.htm">原文</a>',
    )
    on_time = await target_for(db, org.accounts["南京市人民政府-wechat"])
    late = await target_for(db, org.accounts["南京市人民政府-app"])
    assert (on_time.state, on_time.fulfilled_via) == (ObligationState.FULFILLED_ON_TIME, "publication")
    assert late.state == ObligationState.FULFILLED_LATE


async def test_manual_repost_found_on_the_channel_fulfils_and_late_stays_late(db: Database, org: Org) -> None:
    await open_item(db)
    account_id = org.accounts["江宁区人民政府-wechat"]
    posts = [
        RecentPost("今日天气", None, "晴", EVENING + timedelta(hours=1)),
        RecentPost(
            "转发：国务院办公厅关于进一步优化政务服务提升行政效能的意见",
            "https://mp.weixin.qq.com/s/x",
            "",
            EVENING + timedelta(hours=13),
        ),
    ]
    async with db.transaction() as session:
        assert (
            len(await detect_manual_reposts(session, account_id, posts, now=EVENING + timedelta(hours=14)))
            == 1
        )
    target = await target_for(db, account_id)
    assert (target.state, target.fulfilled_via) == (ObligationState.FULFILLED_LATE, "manual_repost")
    async with db.transaction() as session:  # an earlier post found later changes nothing
        earlier = [RecentPost("国办发〔2026〕9号", None, "", EVENING + timedelta(hours=2))]
        assert await detect_manual_reposts(session, account_id, earlier) == []
    assert (await target_for(db, account_id)).state == ObligationState.FULFILLED_LATE


async def _user(db: Database, name: str) -> User:
    async with db.transaction() as session:
        return await admin.user_by_name(session, name)


async def test_evidence_and_waiver_need_an_officer_in_scope_and_are_audited(db: Database, org: Org) -> None:
    await open_item(db)
    nanjing = (await target_for(db, org.accounts["南京市人民政府-wechat"])).id
    hangzhou = (await target_for(db, org.accounts["杭州市人民政府-wechat"])).id
    assert nanjing is not None and hangzhou is not None
    js, editor = await _user(db, "js-officer"), await _user(db, "editor")
    late = EVENING + timedelta(hours=20)
    for who, target in ((editor, nanjing), (js, hangzhou)):
        with pytest.raises(ScopeError):
            async with db.transaction() as session:
                await record_evidence(
                    session, target, officer=who, url="https://weibo.com/1", note="", now=late
                )
    with pytest.raises(ObligationError):
        async with db.transaction() as session:
            await waive(session, nanjing, officer=js, reason="  ", now=late)
    async with db.transaction() as session:
        await record_evidence(
            session,
            nanjing,
            officer=js,
            url="https://mp.weixin.qq.com/s/abc",
            note="截图已存档",
            posted_at=EVENING + timedelta(hours=15),
            now=late,
        )
    assert (
        await target_for(db, org.accounts["南京市人民政府-wechat"])
    ).state == ObligationState.FULFILLED_LATE
    with pytest.raises(ObligationError):  # a fulfilled target cannot be waived into something better
        async with db.transaction() as session:
            await waive(session, nanjing, officer=js, reason="网络故障", now=late)
    async with db.transaction() as session:
        await waive(
            session,
            (await target_for(db, org.accounts["南京市人民政府-app"])).id or 0,
            officer=js,
            reason="客户端停机维护，经批准豁免",
            now=late,
        )
        actions = set((await session.exec(select(AuditEvent.action))).all())
    assert {"obligation.evidence_recorded", "obligation.waived", "obligation.fulfilled_late"} <= actions


async def test_report_as_of_the_past_shows_what_was_known_then(db: Database, org: Org) -> None:
    await open_item(db)
    later_item = item_in(
        "govcn-2026-2",
        published_at=EVENING + timedelta(days=1),
        doc_number="国办发〔2026〕10号",
        title="另一份重要文件的通知",
    )
    await open_item(db, later_item, now=EVENING + timedelta(days=1))
    account_id = org.accounts["南京市人民政府-wechat"]
    async with db.transaction() as session:  # reposted 2 h late, found 5 h late
        posts = [RecentPost("国办发〔2026〕9号", None, "", DEADLINE + timedelta(hours=2))]
        await detect_manual_reposts(session, account_id, posts, now=DEADLINE + timedelta(hours=5))
    nanjing = org.units["南京市人民政府"]

    async def at(moment: timedelta) -> tuple[int, int, int, int]:
        async with db.transaction() as session:
            report = await build_report(
                session, ReportQuery(as_of=DEADLINE + moment, unit_id=nanjing), user_scope=None
            )
        t = report.totals
        return t.targets, t.open, t.overdue, t.late

    assert await at(-timedelta(hours=1)) == (4, 4, 0, 0)  # Nanjing and Jiangning, 2 accounts each
    assert await at(timedelta(hours=3)) == (4, 0, 4, 0)
    assert await at(timedelta(hours=6)) == (4, 0, 3, 1)
    assert await at(timedelta(hours=11)) == (4, 0, 3, 1)  # the second item is not known yet
    assert await at(timedelta(hours=23)) == (8, 4, 3, 1)


async def test_bot_summary_lists_overdue_in_chinese_within_scope(db: Database, org: Org) -> None:
    await open_item(db)
    async with db.transaction() as session:
        text = await compliance_summary(
            session, as_of=DEADLINE + timedelta(minutes=1), scope_unit_id=org.units["浙江省人民政府"]
        )
    assert "浙江省人民政府及下属单位" in text and "超时未转载（4 项）" in text
    assert "杭州市人民政府" in text and "南京" not in text


async def test_portal_article_pushed_with_obligation_opens_an_item_of_its_units_level(
    db: Database, org: Org
) -> None:
    async with db.transaction() as session:
        article = Article(
            source_portal="www.jiangsu.gov.cn",
            external_id="js-96",
            unit_id=org.units["江苏省人民政府"],
            title="江苏省人民政府办公厅关于…的通知",
            url="https://www.jiangsu.gov.cn/art/96.html",
            doc_number="苏政办发〔2026〕96号",
        )
        session.add(article)
        await session.flush()
        version = version_of(article, published_at=EVENING, category="省政府办公厅文件")
        session.add(version)
        await session.flush()
        item = await open_item_from_article(session, article, version, now=EVENING)
        assert item.source_level == "province" and item.category == "省政府办公厅文件"
    units = {r.unit_id for r in await obligations(db)}
    assert units == {org.units["南京市人民政府"], org.units["江宁区人民政府"]}
