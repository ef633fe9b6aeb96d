"""The dashboard in headless Chromium: sign in with name + token, the overdue list, sign out."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.obligations.clock import SHANGHAI
from tests.obligations.conftest import EVENING, Org, open_item

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Naive, as the form sends it: read as Beijing time (2026-11-26 09:40, an hour after the deadline).
AS_OF = (EVENING + timedelta(hours=13)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    app = create_app(settings)
    with BackgroundServer(app) as running:
        yield running.url


async def test_login_needs_csrf_and_a_valid_token(server: str, org: Org) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        assert (await client.get("/dashboard")).headers["location"] == "/dashboard/login"
        forged = await client.post(
            "/dashboard/login", data={"name": "officer", "token": org.tokens["officer"], "csrf": "guess"}
        )
        assert forged.status_code == 403
        form = await client.get("/dashboard/login")
        csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
        wrong = await client.post(
            "/dashboard/login", data={"name": "js-officer", "token": org.tokens["officer"], "csrf": csrf}
        )
        assert wrong.status_code == 401
        csrf = wrong.text.split('name="csrf" value="')[1].split('"')[0]  # a fresh form after each refusal
        editor = await client.post(
            "/dashboard/login", data={"name": "editor", "token": org.tokens["editor"], "csrf": csrf}
        )  # editors sign in to the preview page, not to the compliance desk
        assert editor.status_code == 303 and editor.headers["location"] == "/dashboard/preview"
        assert (await client.get("/dashboard")).headers["location"] == "/dashboard/preview"
        assert (await client.get("/dashboard/clock")).status_code == 401


def _browse(url: str, token: str) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(f"{url}/dashboard")
            page.fill("input[name=name]", "zj-officer")
            page.fill("input[name=token]", token)
            page.click("button[type=submit]")
            page.goto(f"{url}/dashboard?as_of={quote(AS_OF)}")
            found = {
                "heading": page.inner_text("header h1"),
                "overdue": page.inner_text("#overdue"),
                "units": page.inner_text("#units"),
                "chart": page.locator("svg polyline").count(),
            }
            page.click("text=退出登录")
            found["after_logout"] = page.url
            return found
        finally:
            browser.close()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
async def test_officer_sees_the_overdue_list_of_their_scope_in_chromium(
    server: str, org: Org, db: object
) -> None:
    pytest.importorskip("playwright", reason="the playwright package is not installed")
    await open_item(db)  # type: ignore[arg-type]
    seen = await asyncio.to_thread(_browse, server, org.tokens["zj-officer"])
    assert "浙江省人民政府及下属单位" in str(seen["heading"])
    assert "超时未转载（4）" in str(seen["overdue"]) and "杭州市人民政府-wechat" in str(seen["overdue"])
    assert "2026-11-26 08:40" in str(seen["overdue"])
    assert "南京" not in str(seen["units"]) + str(seen["overdue"])
    assert seen["chart"] == 1
    assert str(seen["after_logout"]).endswith("/dashboard/login")
