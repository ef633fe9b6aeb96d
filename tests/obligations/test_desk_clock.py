"""The live repost clock on the dashboard and its drill-down (issue 17 §1), over HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import User
from syndicator.obligations.fulfil import waive
from syndicator.obligations.live import Band, band_for, time_left_text
from tests.obligations.conftest import EVENING, Org, item_in, open_item, target_for
from tests.obligations.desk_support import sign_in

AS_OF = (EVENING + timedelta(hours=9)).isoformat()  # 3 hours before the first item's deadline


@pytest.fixture
async def desk(settings: Settings, org: Org) -> AsyncIterator[httpx.AsyncClient]:
    with BackgroundServer(create_app(settings)) as running:
        async with httpx.AsyncClient(base_url=running.url, timeout=10) as client:
            assert (await sign_in(client, "zj-officer", org.tokens["zj-officer"])).status_code == 303
            yield client


@pytest.mark.parametrize(
    ("left", "band"),
    [
        (timedelta(hours=4, seconds=1), Band.CALM),
        (timedelta(hours=4), Band.SOON),
        (timedelta(hours=1), Band.SOON),
        (timedelta(minutes=59), Band.URGENT),
        (timedelta(0), Band.URGENT),
        (timedelta(seconds=-1), Band.OVERDUE),
    ],
)
def test_bands_by_time_left(left: timedelta, band: Band) -> None:
    assert band_for(left) == band


def test_time_left_reads_in_hours_and_minutes() -> None:
    assert time_left_text(timedelta(hours=3, minutes=5)) == "剩余 3小时05分"
    assert time_left_text(timedelta(minutes=-80)) == "超时 1小时20分"


def rows_of(html: str) -> list[tuple[str, str]]:
    """(band, account name) of each clock row, in page order."""
    return re.findall(r'data-band="(\w+)">.*?/dashboard/accounts/\d+[^>]*>([^<]+)</a>', html, re.S)


async def test_every_pending_target_most_urgent_first_with_bands(
    desk: httpx.AsyncClient, db: Database
) -> None:
    await open_item(db)  # due EVENING + 12 h: 3 h left
    sooner = EVENING - timedelta(hours=2, minutes=30)  # 30 minutes left
    await open_item(db, item_in("govcn-2026-2", published_at=sooner))
    page = await desk.get("/dashboard", params={"as_of": AS_OF})
    clock = page.text.split('<section id="clock"')[1].split("</section>")[0]
    assert "转载倒计时（待转载 8 项）" in clock  # 2 items × 4 Zhejiang accounts, nothing of Jiangsu
    found = rows_of(clock)
    assert [band for band, _ in found] == ["urgent"] * 4 + ["soon"] * 4
    assert "剩余 30分钟" in clock and "剩余 3小时00分" in clock and "南京" not in clock
    # A past moment has no live refresh; now has one.
    assert "data-refresh" not in page.text.split("<main>")[1].split("</section>")[1]
    assert 'data-refresh="/dashboard/clock?' in (await desk.get("/dashboard")).text


async def test_the_fragment_follows_the_filters(desk: httpx.AsyncClient, db: Database) -> None:
    await open_item(db)
    fragment = await desk.get(
        "/dashboard/clock", params={"as_of": AS_OF, "unit": "杭州市人民政府", "platform": "wechat"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert [name for _, name in rows_of(fragment.text)] == ["杭州市人民政府-wechat"]
    by_level = await desk.get("/dashboard/clock", params={"as_of": AS_OF, "level": "province"})
    assert {name for _, name in rows_of(by_level.text)} == {"浙江省人民政府-wechat", "浙江省人民政府-app"}
    outside = await desk.get("/dashboard/clock", params={"unit": "南京市人民政府"})
    assert outside.status_code == 400
    async with httpx.AsyncClient(base_url=str(desk.base_url)) as anonymous:
        assert (await anonymous.get("/dashboard/clock")).status_code == 401


async def test_drill_down_unit_account_item_with_waiver_history(
    desk: httpx.AsyncClient, db: Database, org: Org
) -> None:
    await open_item(db)
    target = await target_for(db, org.accounts["杭州市人民政府-app"])
    async with db.transaction() as session:
        officer = (await session.exec(select(User).where(User.name == "zj-officer"))).one()
        at = EVENING + timedelta(hours=1)
        await waive(session, target.id, officer=officer, reason="客户端维护中", now=at)
    unit = await desk.get(f"/dashboard/units/{org.units['杭州市人民政府']}", params={"as_of": AS_OF})
    assert unit.status_code == 200 and "杭州市人民政府-wechat" in unit.text and "浙江省人民政府" in unit.text
    app_account = org.accounts["杭州市人民政府-app"]
    account = await desk.get(f"/dashboard/accounts/{app_account}", params={"as_of": AS_OF})
    assert "已豁免" in account.text and f"/dashboard/targets/{target.id}" in account.text
    item = await desk.get(f"/dashboard/targets/{target.id}", params={"as_of": AS_OF})
    assert "客户端维护中" in item.text and "豁免" in item.text and "国办发〔2026〕9号" in item.text
    history = item.text.split('id="history"')[1]
    assert "生成任务" in history and "user:zj-officer" in history and "客户端维护中" in history


async def test_out_of_scope_ids_answer_404(desk: httpx.AsyncClient, db: Database, org: Org) -> None:
    await open_item(db)
    nanjing = await target_for(db, org.accounts["南京市人民政府-wechat"])
    for path in (
        f"/dashboard/units/{org.units['南京市人民政府']}",
        f"/dashboard/accounts/{org.accounts['南京市人民政府-wechat']}",
        f"/dashboard/targets/{nanjing.id}",
        "/dashboard/targets/999999",
    ):
        answer = await desk.get(path)
        assert answer.status_code == 404 and "南京" not in answer.text, path


async def test_the_page_keeps_its_csp_and_loads_no_inline_script(desk: httpx.AsyncClient) -> None:
    page = await desk.get("/dashboard")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/dashboard/static/desk.js" defer>']
    script = await desk.get("/dashboard/static/desk.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
