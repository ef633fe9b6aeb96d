"""Withdrawing an article removes it from every channel, whatever state each publication is in."""

from __future__ import annotations

import time

from channels.signing import signed_headers
from syndicator import admin
from syndicator.models import PublicationState
from tests.conftest import APP_SECRET_ENV, INGEST_SECRET
from tests.support import corpus_articles, emulator_state, post_signed, publications, run_worker


async def delete_signed(api, article_id: int, secret: str = INGEST_SECRET, *, now: float | None = None):
    headers = signed_headers(secret, "DELETE", f"/api/v1/articles/{article_id}", b"", now or time.time())
    return await api.delete(f"/api/v1/articles/{article_id}", headers=headers)


async def test_withdrawal_removes_the_post_from_every_channel(
    db, api, settings, emulators, everywhere
) -> None:
    response = await delete_signed(api, everywhere)
    assert response.status_code == 202 and len(response.json()["withdrawing"]) == 3
    await run_worker(settings)

    assert {p.state for p in await publications(db)} == {PublicationState.WITHDRAWN}
    app_state = emulator_state(emulators["app"].url)
    assert [a["status"] for a in app_state["articles"].values()] == ["deleted"]
    (wechat_items,) = emulator_state(emulators["wechat"].url)["articles"].values()
    assert [item["is_deleted"] for item in wechat_items] == [True]
    assert [s["deleted"] for s in emulator_state(emulators["weibo"].url)["statuses"]] == [True]


async def test_withdrawal_is_signed_and_idempotent(db, api, settings, everywhere) -> None:
    assert (await delete_signed(api, everywhere, secret="wrong")).status_code == 401
    assert (await delete_signed(api, 999_999)).status_code == 404
    first = time.time()
    assert (await delete_signed(api, everywhere, now=first)).status_code == 202
    assert (await delete_signed(api, everywhere, now=first)).status_code == 401  # a replay
    again = await delete_signed(api, everywhere, now=first + 1)  # a fresh delivery of the same request
    assert again.status_code == 202 and again.json()["withdrawing"] == []


async def test_an_article_withdrawn_before_it_was_sent_never_reaches_a_channel(
    db, api, settings, app_emulator
) -> None:
    article = corpus_articles()[1]
    async with db.transaction() as session:
        await admin.add_unit(session, article["unit"], "county", None, actor="test")
        await admin.add_account(
            session,
            unit=article["unit"],
            platform="app",
            name="app",
            api_base_url=app_emulator.url,
            secret_env=APP_SECRET_ENV,
            actor="test",
        )
    article_id = (await post_signed(api, article)).json()["article_id"]
    assert (await delete_signed(api, article_id)).json()["withdrawing"] == []
    await run_worker(settings)
    assert [p.state for p in await publications(db)] == [PublicationState.WITHDRAWN]
    assert emulator_state(app_emulator.url)["created"] == 0
