"""Headless Debian Chromium for the dashboard tests, and where their screenshots go.

Screenshots land in tests/artifacts/screenshots/ (gitignored) so a person can open them; the
path is printed when a test writes one.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium fonts-noto-cjk)"
)


@asynccontextmanager
async def browser_page() -> AsyncIterator[Any]:
    """A fresh page in headless Chromium; console errors (CSP violations among them) are collected."""
    pytest.importorskip("playwright", reason="the playwright package is not installed")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
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
            page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.console_errors = []  # type: ignore[attr-defined]
            page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
            yield page
        finally:
            await browser.close()


async def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


async def sign_in(page: Any, base_url: str, name: str, token: str, *, home: str = "/dashboard") -> None:
    await page.goto(f"{base_url}/dashboard")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=token]", token)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}{home}")
