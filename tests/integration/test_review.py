"""Pre-publish checks at ingest: tampered articles are held, reviewed, and never fanned out unreleased."""

from __future__ import annotations

import pytest
from sqlmodel import select

from syndicator import admin
from syndicator.models import ArticleVersion, CheckResult, Notification, Publication, PublicationState
from tests.support import (
    CORPUS,
    corpus_articles,
    emulator_state,
    post_signed,
    publications,
    run_worker,
    seed_units_with_app_accounts,
)

SPAM_TITLE = "澳门娱乐城-体育投注-官方app登录入口_"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"moderation_chat_id": -42})


@pytest.fixture
async def people(db):
    async with db.transaction() as session:
        await admin.add_user(
            session, "editor-wang", ["editor", "reviewer"], telegram_id=None, scope=None, actor="t"
        )
        await admin.add_user(session, "reviewer-li", ["reviewer"], telegram_id=None, scope=None, actor="t")
        return {
            name: await admin.issue_token(session, name, actor="t") for name in ("editor-wang", "reviewer-li")
        }


def tampered(**changes):
    article = corpus_articles()[1]
    return {**article, "title": SPAM_TITLE + article["title"], "submitted_by": "editor-wang", **changes}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {
            "title": corpus_articles()[1]["title"],
            "body_html": corpus_articles()[1]["body_html"]
            + '<div style="display:none"><a href="https://x.bet/">博彩</a></div>',
        },
        {
            "title": corpus_articles()[1]["title"],
            "body_html": "<p>机密★1年</p>" + corpus_articles()[1]["body_html"],
        },
        {
            "title": corpus_articles()[1]["title"],
            "body_html": corpus_articles()[1]["body_html"] + "<p>原价998元，现价98元，扫码购买！</p>",
        },
    ],
    ids=["spam-title", "hidden-gambling-link", "secrecy-marker", "advertising"],
)
async def test_tampered_articles_are_held_and_reach_no_channel(
    db, settings, api, app_emulator, changes
) -> None:
    await seed_units_with_app_accounts(db, app_emulator.url, corpus_articles())
    response = await post_signed(api, tampered(**changes))
    assert response.status_code == 202 and response.json()["status"] == "held"
    assert response.json()["publications"] == []
    await run_worker(settings)
    assert await publications(db) == []
    assert emulator_state(app_emulator.url)["created"] == 0
    async with db.transaction() as session:
        findings = (await session.exec(select(CheckResult))).all()
        (alert,) = (await session.exec(select(Notification))).all()
    assert any(f.severity == "block" for f in findings)
    assert alert.chat_id == -42 and "暂缓发布" in alert.text


async def test_clean_corpus_articles_are_not_held(db, api, app_emulator) -> None:
    await seed_units_with_app_accounts(db, app_emulator.url, corpus_articles())
    statuses = [(await post_signed(api, article)).json()["status"] for article in corpus_articles()]
    assert statuses == ["created"] * 4


async def test_a_reviewer_releases_with_a_reason_but_not_their_own_article(
    db, settings, api, app_emulator, people
) -> None:
    await seed_units_with_app_accounts(db, app_emulator.url, corpus_articles())
    await post_signed(api, tampered())
    (held,) = (
        await api.get("/api/v1/reviews", headers={"Authorization": f"Bearer {people['reviewer-li']}"})
    ).json()
    assert any(f["rule"].startswith("spam") for f in held["findings"])
    url = f"/api/v1/reviews/{held['version_id']}/release"

    own = await api.post(
        url, json={"reason": "误报"}, headers={"Authorization": f"Bearer {people['editor-wang']}"}
    )
    assert own.status_code == 409 and "role separation" in own.json()["detail"]
    no_reason = await api.post(
        url, json={"reason": ""}, headers={"Authorization": f"Bearer {people['reviewer-li']}"}
    )
    assert no_reason.status_code == 422

    released = await api.post(
        url,
        json={"reason": "标题为门户系统测试残留，已核实"},
        headers={"Authorization": f"Bearer {people['reviewer-li']}"},
    )
    assert released.status_code == 202 and len(released.json()["publications"]) == 1
    await run_worker(settings)
    assert [p.state for p in await publications(db)] == [PublicationState.PUBLISHED]


async def test_a_rejected_version_is_never_sent(db, settings, api, app_emulator, people) -> None:
    await seed_units_with_app_accounts(db, app_emulator.url, corpus_articles())
    version_id = (await post_signed(api, tampered())).json()["version"]
    async with db.transaction() as session:
        held = (await session.exec(select(CheckResult.version_id))).first()
    headers = {"Authorization": f"Bearer {people['reviewer-li']}"}
    rejected = await api.post(
        f"/api/v1/reviews/{held}/reject", json={"reason": "网站被篡改"}, headers=headers
    )
    assert rejected.status_code == 200 and version_id == 1
    again = await api.post(f"/api/v1/reviews/{held}/release", json={"reason": "x"}, headers=headers)
    assert again.status_code == 409
    async with db.transaction() as session:
        assert (await session.exec(select(Publication))).all() == []


async def test_injected_markup_is_sanitised_before_it_reaches_a_channel(
    db, settings, api, app_emulator
) -> None:
    await seed_units_with_app_accounts(db, app_emulator.url, corpus_articles())
    article = corpus_articles()[1]
    article["body_html"] += '<p>附件<img src="https://www.xingning.gov.cn/a.png" onerror="alert(1)"></p>'
    assert (await post_signed(api, article)).json()["status"] in ("created", "held")
    await run_worker(settings)
    stored = str(emulator_state(app_emulator.url)["articles"])
    assert "onerror" not in stored and "alert(1)" not in stored
    async with db.transaction() as session:
        (version,) = (await session.exec(select(ArticleVersion))).all()
    # Both bodies are kept, in their own columns; the document as received stays as it came.
    assert "onerror" in version.body_html and "onerror" not in (version.sanitized_html or "onerror")
    assert (version.external_id, version.title) == (article["external_id"], article["title"])
    assert version.payload["body_html"] == article["body_html"] and "sanitized_html" not in version.payload


def test_check_command_exit_codes() -> None:
    from typer.testing import CliRunner

    from syndicator.cli import app

    runner = CliRunner()
    clean = runner.invoke(app, ["check", str(CORPUS / "portal-articles" / "003.json")])
    # 001 prints its unit's office number: clean once the number is given as the unit's own.
    xingning = str(CORPUS / "portal-articles" / "001.json")
    assert runner.invoke(app, ["check", xingning]).exit_code == 1
    assert runner.invoke(app, ["check", xingning, "--contact-phone", "6166558"]).exit_code == 0
    warned = runner.invoke(app, ["check", str(CORPUS / "portal-articles" / "000.json")])
    assert clean.exit_code == 0 and warned.exit_code == 1 and "〔201457号" in warned.output
    as_json = runner.invoke(app, ["check", "--json", str(CORPUS / "portal-articles" / "000.json")])
    assert as_json.exit_code == 1 and '"doc_number.malformed"' in as_json.output
