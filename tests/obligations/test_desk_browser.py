"""The officers' desk in headless Chromium with CJK fonts: the live clock refreshes itself under the
CSP, and the drill-down pages read well (screenshots in tests/artifacts/screenshots/)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import utcnow
from tests.obligations.browser import browser_page, needs_chromium, screenshot, sign_in
from tests.obligations.conftest import Org, item_in, open_item

pytestmark = needs_chromium


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    quick = settings.model_copy(update={"dashboard_refresh_seconds": 1})
    with BackgroundServer(create_app(quick)) as running:
        yield running.url


async def open_items_due_soon(db: Database) -> None:
    """Items whose deadlines (12 h after publication) fall in every band, relative to now."""
    now = utcnow()
    for guid, title, age in (
        ("late", "国务院关于印发《新时代基层治理能力提升行动方案》的通知", timedelta(hours=13)),
        ("urgent", "国务院办公厅关于进一步优化政务服务提升行政效能的意见", timedelta(hours=11, minutes=30)),
        ("soon", "国务院办公厅关于加强城市内涝治理的实施意见", timedelta(hours=10)),
        ("calm", "国务院关于进一步做好稳就业工作的通知", timedelta(hours=2)),
    ):
        await open_item(db, item_in(f"govcn-{guid}", title=title, published_at=now - age), now=now - age)


async def test_the_clock_refreshes_itself_and_drills_down(server: str, org: Org, db: Database) -> None:
    await open_items_due_soon(db)
    async with browser_page() as page:
        await page.goto(f"{server}/dashboard/login")
        await screenshot(page, "desk-0-login")
        await sign_in(page, server, "zj-officer", org.tokens["zj-officer"])
        clock = page.locator("#clock")
        assert "转载倒计时（待转载 16 项）" in await clock.inner_text()
        bands = await page.locator("#clock tbody tr").evaluate_all("rows => rows.map(r => r.dataset.band)")
        assert bands == ["overdue"] * 4 + ["urgent"] * 4 + ["soon"] * 4 + ["calm"] * 4
        colour = await page.locator("#clock tr.band-urgent td").first.evaluate(
            "td => getComputedStyle(td.parentElement).backgroundColor"
        )
        assert colour == "rgb(255, 216, 181)"
        await screenshot(page, "desk-1-dashboard")

        # A new item arrives: the clock shows it without a page reload.
        await page.evaluate("window.notReloaded = true")
        now = utcnow()
        await open_item(db, item_in("govcn-new", title="国务院关于新到文件的通知", published_at=now), now=now)
        await page.locator("#clock >> text=国务院关于新到文件的通知").first.wait_for(timeout=20_000)
        assert await page.evaluate("window.notReloaded === true")
        assert "转载倒计时（待转载 20 项）" in await clock.inner_text()

        async with page.expect_download() as fetched:
            await page.click("#downloads >> text=下载全部（XLSX）")
        download = await fetched.value
        assert download.suggested_filename.endswith(".xlsx") and await download.failure() is None

        async with page.expect_download() as fetched:
            await page.click("#inspection >> text=下载检查指标表（XLSX）")
        inspection = await fetched.value
        assert inspection.suggested_filename.startswith("inspection-") and await inspection.failure() is None

        await page.click("#clock >> text=杭州市人民政府 >> nth=0")
        await page.wait_for_url("**/dashboard/units/*")
        assert "杭州市人民政府-wechat" in await page.locator("#accounts").inner_text()
        await screenshot(page, "desk-2-unit")
        await page.click("#accounts >> text=杭州市人民政府-wechat")
        await page.wait_for_url("**/dashboard/accounts/*")
        assert "超时未转载" in await page.locator("#targets").inner_text()
        await screenshot(page, "desk-3-account")
        await page.click("#targets >> text=国务院关于印发《新时代基层治理能力提升行动方案》的通知")
        await page.wait_for_url("**/dashboard/targets/*")
        assert "截止时间" in await page.locator("#item").inner_text()
        await screenshot(page, "desk-4-item")
        assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
