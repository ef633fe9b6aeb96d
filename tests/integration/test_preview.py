"""Preview before publishing (issue 17 §5): each channel's rendering and the check findings, from
an article JSON or a held version; nothing stored, nothing sent."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import Article, ArticleVersion, Notification, Publication
from tests.support import corpus_articles, post_signed, seed_units_with_app_accounts

LONG = corpus_articles()[3]  # 怀化: a title longer than WeChat's 32 characters
SECRET = {**corpus_articles()[1], "body_html": "<p>机密★1年</p>" + corpus_articles()[1]["body_html"]}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"moderation_chat_id": -42, "dashboard_public_url": "https://desk.example.gov.cn/"}
    )


@pytest.fixture
async def tokens(db: Database) -> dict[str, str]:
    async with db.transaction() as session:
        for name, roles in (("editor", ["editor"]), ("officer", ["officer"])):
            await admin.add_user(session, name, roles, telegram_id=None, scope=None, actor="t")
        return {name: await admin.issue_token(session, name, actor="t") for name in ("editor", "officer")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def stored(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        return {
            table.__name__: (await session.exec(select(func.count()).select_from(table))).one()
            for table in (Article, ArticleVersion, Publication, Notification)
        }


async def test_preview_renders_every_channel_and_stores_nothing(
    api: httpx.AsyncClient, db: Database, tokens: dict[str, str]
) -> None:
    before = await stored(db)
    answer = await api.post("/api/v1/preview", json=LONG, headers=bearer(tokens["editor"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    wechat = body["wechat"]
    assert wechat["title_cut"] and len(wechat["title"]) <= 32 and wechat["title"].endswith("…")
    assert wechat["digest"] and "<p" in wechat["body_html"] and wechat["cover_source"] == "none"
    assert body["weibo"]["weibo_length"] <= body["weibo"]["limit"] == 140
    assert LONG["url"] in body["weibo"]["text"]
    assert body["app"]["payload"]["title"] == LONG["title"] and body["app"]["payload"]["external_id"]
    assert body["checks"]["verdict"] in ("clean", "warnings") and body["checks"]["held"] is False
    assert await stored(db) == before  # nothing stored, nothing queued for a chat


async def test_preview_shows_what_would_hold_the_article(
    api: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    answer = await api.post("/api/v1/preview", json=SECRET, headers=bearer(tokens["editor"]))
    checks = answer.json()["checks"]
    assert checks["held"] and any(f["rule"].startswith("secrecy") for f in checks["findings"])


async def test_preview_needs_an_editor(api: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    assert (await api.post("/api/v1/preview", json=LONG)).status_code == 401
    assert (
        await api.post("/api/v1/preview", json=LONG, headers=bearer(tokens["officer"]))
    ).status_code == 403
    bad = await api.post(
        "/api/v1/preview", json={**LONG, "url": "not a url"}, headers=bearer(tokens["editor"])
    )
    assert bad.status_code == 422


async def test_a_held_versions_card_links_to_its_preview(
    api: httpx.AsyncClient, db: Database, app_emulator: BackgroundServer, tokens: dict[str, str]
) -> None:
    await seed_units_with_app_accounts(db, app_emulator.url, [SECRET])
    assert (await post_signed(api, SECRET)).json()["status"] == "held"
    async with db.transaction() as session:
        version = (await session.exec(select(ArticleVersion))).one()
        card = (await session.exec(select(Notification))).one()
    link = f"https://desk.example.gov.cn/dashboard/preview/versions/{version.id}"
    assert link in card.text
    answer = await api.get(f"/api/v1/preview/versions/{version.id}", headers=bearer(tokens["editor"]))
    assert answer.status_code == 200 and answer.json()["checks"]["held"]
    assert (
        await api.get("/api/v1/preview/versions/999999", headers=bearer(tokens["editor"]))
    ).status_code == 404
    async with db.transaction() as session:
        assert not (await session.exec(select(Publication))).all()  # still held: nothing sent
