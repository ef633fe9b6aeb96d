"""Dashboard downloads (issue 17 §2): the page's own filters, as_of and scope, by the session."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from openpyxl import load_workbook

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from tests.obligations.conftest import EVENING, Org, open_item
from tests.obligations.desk_support import sign_in

AS_OF = (EVENING + timedelta(hours=9)).isoformat()


@pytest.fixture
async def desk(settings: Settings, org: Org) -> AsyncIterator[httpx.AsyncClient]:
    with BackgroundServer(create_app(settings)) as running:
        async with httpx.AsyncClient(base_url=running.url, timeout=10) as client:
            assert (await sign_in(client, "zj-officer", org.tokens["zj-officer"])).status_code == 303
            yield client


def links(page: str) -> dict[str, str]:
    found = re.findall(r'<a class="button" href="([^"]+)" download>([^<]+)</a>', page)
    return {label: html.unescape(href) for href, label in found}


async def test_buttons_download_what_the_page_shows(desk: httpx.AsyncClient, db: Database) -> None:
    await open_item(db)
    page = await desk.get("/dashboard", params={"as_of": AS_OF, "platform": "wechat"})
    buttons = links(page.text)
    assert set(buttons) >= {"下载全部（XLSX）", "转载倒计时（CSV）", "超时未转载（CSV）", "各单位情况（CSV）"}
    clock_csv = await desk.get(buttons["转载倒计时（CSV）"])
    assert clock_csv.headers["content-type"].startswith("text/csv") and clock_csv.content.startswith(
        b"\xef\xbb\xbf"
    )
    rows = list(csv.DictReader(io.StringIO(clock_csv.content.decode("utf-8-sig"))))
    # Same filters and scope as the page: Zhejiang's WeChat accounts only, 3 hours left.
    assert sorted(r["账号"] for r in rows) == ["杭州市人民政府-wechat", "浙江省人民政府-wechat"]
    assert {r["剩余时间"] for r in rows} == {"剩余 3小时00分"}
    units = await desk.get(buttons["各单位情况（CSV）"])
    assert "南京" not in units.content.decode("utf-8-sig")
    book = load_workbook(io.BytesIO((await desk.get(buttons["下载全部（XLSX）"])).content))
    assert {"转载倒计时", "单位汇总", "超时未转载", "转载明细", "更新频率预警"} <= set(book.sheetnames)
    assert book["转载倒计时"].max_row == 3  # header + the two rows the page shows


async def test_downloads_need_the_dashboard_session(desk: httpx.AsyncClient, org: Org) -> None:
    async with httpx.AsyncClient(base_url=str(desk.base_url)) as anonymous:
        assert (await anonymous.get("/dashboard/export.xlsx")).status_code == 401
        bearer = {"Authorization": f"Bearer {org.tokens['zj-officer']}"}
        assert (await anonymous.get("/dashboard/export.csv", headers=bearer)).status_code == 401
    outside = await desk.get("/dashboard/export.csv", params={"unit": "南京市人民政府"})
    assert outside.status_code == 400


async def test_the_inspection_button_downloads_the_officers_scope(
    desk: httpx.AsyncClient, db: Database
) -> None:
    await open_item(db)
    page = await desk.get("/dashboard")
    form = page.text.split('id="inspection"')[1].split("</form>")[0]
    assert 'name="date_from"' in form and "下载检查指标表（XLSX）" in form
    answer = await desk.get(
        "/dashboard/inspection.xlsx", params={"date_from": "2026-11-16", "date_to": "2026-11-29"}
    )
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    accounts = {row[0].value for row in book["汇总"].iter_rows(min_row=2)}
    assert accounts and all("浙江" in a or "杭州" in a for a in accounts)
    assert book["重要政策转载"].max_row == 1 + 4  # the item's four Zhejiang targets
    outside = await desk.get(
        "/dashboard/inspection.xlsx",
        params={"date_from": "2026-11-16", "date_to": "2026-11-29", "unit": "南京市人民政府"},
    )
    assert outside.status_code == 400
