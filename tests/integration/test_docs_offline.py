"""/docs works without internet: Swagger UI's assets come from a package, never a CDN."""

from __future__ import annotations

import asyncio
import re
import shutil
from urllib.parse import urlsplit

import pytest

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


async def test_the_docs_page_references_no_external_host(api) -> None:
    page = await api.get("/docs")
    assert page.status_code == 200
    assert not re.search(r"(https?:)?//[a-z0-9.-]+", page.text, re.I), "the page names a host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 3 and all(a.startswith("/static/swagger-ui/") for a in assets)
    for asset in assets:
        assert (await api.get(asset)).status_code == 200, asset


def _render(url: str) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            page = browser.new_page()
            hosts: set[str] = set()
            page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or ""))
            page.goto(f"{url}/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
            page.wait_for_selector(".opblock", timeout=20_000)
            return {"title": page.inner_text(".swagger-ui .info .title"), "hosts": hosts}
        finally:
            browser.close()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
async def test_swagger_ui_renders_in_chromium_with_loopback_only(settings) -> None:
    pytest.importorskip("playwright", reason="the playwright package is not installed")
    with BackgroundServer(create_app(settings)) as server:
        seen = await asyncio.to_thread(_render, server.url)
    assert "Syndicator" in str(seen["title"])
    assert seen["hosts"] == {"127.0.0.1"}
