"""The consistency audit reads every channel back and finds (and with --fix, mends) drift."""

from __future__ import annotations

import json

import httpx
from sqlmodel import select

from channels.http import make_http_client
from channels.signing import signed_headers
from syndicator.consistency import DriftKind, audit_consistency
from syndicator.context import WorkerContext
from syndicator.models import Article, ArticleState, Notification, PublicationState
from syndicator.queue import connect
from tests.conftest import APP_SECRET
from tests.integration.conftest import WEIBO_TOKEN
from tests.support import emulator_state, inject_faults, publications, run_worker


async def run_audit(settings, db, *, fix: bool = False):
    redis = await connect(settings.redis_url, settings.queue_name)
    async with make_http_client() as http:
        try:
            return await audit_consistency(
                WorkerContext(settings=settings, db=db, redis=redis, http=http), fix=fix
            )
        finally:
            await redis.aclose()


def edit_in_app(app_url: str, remote_id: str) -> None:
    body = json.dumps({"body_html": "<p>被直接篡改的内容</p>"}, ensure_ascii=False).encode()
    signature = signed_headers(APP_SECRET, "PUT", f"/v1/articles/{remote_id}", body)
    headers = {"Content-Type": "application/json", **signature}
    httpx.put(f"{app_url}/v1/articles/{remote_id}", content=body, headers=headers).raise_for_status()


def delete_on_weibo(weibo_url: str, status_id: str) -> None:
    httpx.post(f"{weibo_url}/2/statuses/destroy.json", data={"access_token": WEIBO_TOKEN, "id": status_id})


async def test_no_drift_right_after_publishing(db, settings, everywhere) -> None:
    assert await run_audit(settings, db) == []


async def test_edits_and_deletions_on_the_channels_are_found_and_fixed(
    db, settings, emulators, everywhere
) -> None:
    by_platform = {p.account_id: p for p in await publications(db)}
    app_pub, _wechat_pub, weibo_pub = (by_platform[i] for i in sorted(by_platform))
    edit_in_app(emulators["app"].url, app_pub.remote_id)
    delete_on_weibo(emulators["weibo"].url, weibo_pub.remote_id)

    settings = settings.model_copy(update={"moderation_chat_id": -100})
    found = {(d.platform, d.kind) for d in await run_audit(settings, db)}
    assert found == {("app", DriftKind.ALTERED), ("weibo", DriftKind.MISSING)}
    async with db.transaction() as session:
        alerts = (await session.exec(select(Notification))).all()
    assert len(alerts) == 2
    assert any("app（app）渠道上的内容被改动" in a.text for a in alerts)
    assert any("weibo（weibo）渠道上已不存在" in a.text for a in alerts)

    fixed = await run_audit(settings, db, fix=True)
    assert all(d.fixed for d in fixed) and len(fixed) == 2
    await run_worker(settings)  # the fix is done by the publications' own jobs
    assert await run_audit(settings, db) == []
    assert emulator_state(emulators["app"].url)["created"] == 1  # corrected in place, not posted again


async def test_a_fix_whose_answer_is_lost_is_read_back_not_posted_twice(
    db, settings, emulators, everywhere
) -> None:
    """The fix's send is an ordinary send: intent (its new key) recorded by the claim, so a lost
    answer is found again by that key on the next attempt (Weibo cannot be asked twice safely)."""
    weibo_pub = max(await publications(db), key=lambda p: p.account_id)
    weibo_url = emulators["weibo"].url
    delete_on_weibo(weibo_url, weibo_pub.remote_id)
    assert [d.kind for d in await run_audit(settings, db, fix=True)] == [DriftKind.MISSING]
    inject_faults(weibo_url, hang_seconds=3, queue=[{"kind": "drop_after", "path": "/2/statuses/share.json"}])
    await run_worker(settings)
    assert len(emulator_state(weibo_url)["shares"]) == 2  # the first post and the fix, no third
    assert await run_audit(settings, db) == []


async def test_a_withdrawn_article_still_live_is_extra(db, settings, everywhere) -> None:
    async with db.transaction() as session:
        article = (await session.exec(select(Article))).one()
        article.state = ArticleState.WITHDRAWN  # withdrawn here, but nobody removed the posts
    drifts = await run_audit(settings, db)
    assert {d.kind for d in drifts} == {DriftKind.EXTRA} and len(drifts) == 3
    await run_audit(settings, db, fix=True)
    await run_worker(settings)
    assert await run_audit(settings, db) == []
    assert {p.state for p in await publications(db)} == {PublicationState.WITHDRAWN}
