"""The preview page in headless Chromium: an editor pastes or uploads an article JSON and sees each
channel; a reviewer opens a held version from its card link (screenshots in tests/artifacts/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from syndicator import admin
from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import ArticleVersion
from tests.obligations.browser import browser_page, needs_chromium, screenshot, sign_in
from tests.support import corpus_articles, post_signed, seed_units_with_app_accounts

pytestmark = [needs_chromium]
LONG = corpus_articles()[3]
SECRET = {**corpus_articles()[1], "body_html": "<p>机密★1年</p>" + corpus_articles()[1]["body_html"]}


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with BackgroundServer(create_app(settings)) as running:
        yield running.url


@pytest.fixture
async def editor(db: Database) -> str:
    async with db.transaction() as session:
        await admin.add_user(
            session, "editor-wang", ["editor", "reviewer"], telegram_id=None, scope=None, actor="t"
        )
        return await admin.issue_token(session, "editor-wang", actor="t")


async def test_an_editor_previews_pasted_and_uploaded_articles(
    server: str, editor: str, tmp_path: Path
) -> None:
    async with browser_page() as page:
        await page.goto(f"{server}/dashboard")
        await page.fill("input[name=name]", "editor-wang")
        await page.fill("input[name=token]", editor)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{server}/dashboard/preview")
        await page.fill("textarea[name=article]", json.dumps(LONG, ensure_ascii=False))
        await page.click("#form button[type=submit]")
        await page.locator("#wechat").wait_for()
        wechat = await page.locator("#wechat").inner_text()
        assert "标题超过 32 字，已按规则截断" in wechat and "无封面" in wechat
        assert "/ 140" in await page.locator("#weibo").inner_text()
        assert '"external_id"' in await page.locator("#app").inner_text()
        await screenshot(page, "preview-1-pasted")

        upload = tmp_path / "held.json"
        upload.write_text(json.dumps(SECRET, ensure_ascii=False), encoding="utf-8")
        await page.fill("textarea[name=article]", "")
        await page.set_input_files("input[type=file]", str(upload))
        await page.click("#form button[type=submit]")
        await page.locator("#checks").wait_for()
        assert "将暂缓发布" in await page.locator("#checks").inner_text()
        await screenshot(page, "preview-2-uploaded-held")

        await page.fill("textarea[name=article]", "{not json")
        await page.click("#form button[type=submit]")
        assert "不是有效的 JSON" in await page.locator("[role=alert]").inner_text()
        assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors


async def test_a_held_version_opens_from_its_card_link(
    server: str, editor: str, db: Database, app_emulator: BackgroundServer
) -> None:
    import httpx

    await seed_units_with_app_accounts(db, app_emulator.url, [SECRET])
    async with httpx.AsyncClient(base_url=server) as client:
        assert (await post_signed(client, SECRET)).json()["status"] == "held"
    async with db.transaction() as session:
        version = (await session.exec(select(ArticleVersion))).one()
    async with browser_page() as page:
        await sign_in(page, server, "editor-wang", editor, home="/dashboard/preview")
        await page.goto(f"{server}/dashboard/preview/versions/{version.id}")
        assert "待审稿件预览" in await page.inner_text("main")
        assert "secrecy" in await page.locator("#checks").inner_text()
        await screenshot(page, "preview-3-held-version")
