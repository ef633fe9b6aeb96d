"""The consistency audit tells the truth (issue 20), against the emulators over real HTTP.

A WeChat fix and the withdrawal of a still-submitted WeChat publication end like a normal publish
(the article_id stored, published_at set), also across a Redis flush; a post that cannot be read
is a finding; one bad answer never stops the audit; `audit --json` is JSON on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
from arq import Retry
from sqlmodel import select

from channels.http import make_http_client
from channels.wechat.emulator import create_app as create_wechat
from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.consistency import DriftKind, audit_consistency
from syndicator.context import WorkerContext
from syndicator.models import Notification, Publication, PublicationState, utcnow
from syndicator.pipeline.jobs import publish_publication
from syndicator.pipeline.reconciler import requeue_stuck
from syndicator.pipeline.withdrawal import request_withdrawal, withdraw_publication
from syndicator.queue import connect
from tests.conftest import OWNER_KEY
from tests.integration.conftest import COVER, WECHAT_APP_ID
from tests.support import (
    CORPUS,
    corpus_articles,
    emulator_state,
    inject_faults,
    post_signed,
    publications,
    run_worker,
)

SYNDICATOR = Path(sys.executable).with_name("syndicator")


@asynccontextmanager
async def pipeline(settings, db) -> AsyncIterator[WorkerContext]:
    redis_client = await connect(settings.redis_url, settings.queue_name)
    async with make_http_client() as http:
        try:
            yield WorkerContext(settings=settings, db=db, redis=redis_client, http=http)
        finally:
            await redis_client.aclose()


async def run_audit(settings, db, *, fix: bool = False):
    async with pipeline(settings, db) as deps:
        return await audit_consistency(deps, fix=fix)


def flush_redis(redis_url: str) -> None:
    """What a Redis restart without persistence does: every job, memo and cached token is gone."""
    client = redis.Redis.from_url(redis_url)
    owner = client.get(OWNER_KEY)
    client.flushdb()
    if owner:
        client.set(OWNER_KEY, owner, ex=3600)
    client.close()


async def requeue_everything(settings, db) -> None:
    """The reconciler's cron, run now: the database says what is still owed."""
    redis_client = await connect(settings.redis_url, settings.queue_name)
    try:
        await requeue_stuck(db, redis_client, older_than=utcnow() + timedelta(hours=1), poll_delay=0)
    finally:
        await redis_client.aclose()


def on_admin_site(wechat_url: str, article_id: str, **change: object) -> None:
    httpx.post(f"{wechat_url}/_emulator/articles/{article_id}", json=change).raise_for_status()


async def wechat_publication(db) -> Publication:
    _app, wechat, _weibo = await publications(db)  # `everywhere` adds the accounts in this order
    return wechat


async def test_a_wechat_fix_is_followed_to_its_article_id_across_a_redis_flush(
    db, settings, redis_url, emulators, everywhere
) -> None:
    wechat_url = emulators["wechat"].url
    before = await wechat_publication(db)
    on_admin_site(wechat_url, before.remote_id, content="<p>公众号后台改过的内容</p>")

    (drift,) = await run_audit(settings, db, fix=True)
    assert (drift.kind, drift.platform, drift.fixed) == (DriftKind.ALTERED, "wechat", True)
    async with pipeline(settings, db) as deps:  # the fix's publish job: submitted, then Redis is lost
        assert await publish_publication({"context": deps, "job_try": 1}, before.id) == "submitted"
    flush_redis(redis_url)
    await requeue_everything(settings, db)
    await run_worker(settings)

    after = await wechat_publication(db)
    state = emulator_state(wechat_url)
    assert after.state == PublicationState.PUBLISHED and after.published_at is not None
    assert after.remote_id in state["articles"] and after.remote_id != before.remote_id
    assert after.remote_id.startswith("art_")  # the article_id, never the submit's publish_id
    assert "replaces" not in after.remote_details
    assert len(state["submissions"]) == 2  # the original and exactly one re-send
    assert state["articles"][before.remote_id][0]["is_deleted"]  # the altered post was removed
    assert await run_audit(settings, db) == []


async def test_a_lost_submit_answer_and_a_redis_flush_never_post_twice(
    db, settings, redis_url, emulators, everywhere
) -> None:
    wechat_url = emulators["wechat"].url
    before = await wechat_publication(db)
    on_admin_site(wechat_url, before.remote_id, is_deleted=True)
    (drift,) = await run_audit(settings, db, fix=True)
    assert (drift.kind, drift.fixed) == (DriftKind.MISSING, True)

    # The fix's submit lands on WeChat but its answer is lost, then so is Redis (the draft memo).
    inject_faults(wechat_url, queue=[{"kind": "drop_after", "path": "freepublish/submit"}])
    settings = settings.model_copy(update={"retry_base_seconds": 0, "retry_cap_seconds": 0})
    async with pipeline(settings, db) as deps:
        with pytest.raises(Retry):
            await publish_publication({"context": deps, "job_try": 1}, before.id)
    assert (await wechat_publication(db)).state == PublicationState.SENDING  # intent was recorded
    flush_redis(redis_url)
    await requeue_everything(settings, db)
    await run_worker(settings)

    after = await wechat_publication(db)
    state = emulator_state(wechat_url)
    assert len(state["submissions"]) == 2  # read back from the durable record, not submitted again
    assert after.state == PublicationState.PUBLISHED and after.published_at is not None
    assert after.remote_id in state["articles"] and after.remote_id != before.remote_id
    assert await run_audit(settings, db) == []


@pytest.fixture
def slow_wechat(monkeypatch):
    """A WeChat whose publish jobs finish only when the test says so (its clock)."""
    monkeypatch.setenv("TEST_WECHAT_SECRET", "wechat-secret")
    now = [1_800_000_000.0]
    app = create_wechat(
        app_id=WECHAT_APP_ID, app_secret="wechat-secret", publish_delay_seconds=60, clock=lambda: now[0]
    )
    with BackgroundServer(app) as server:
        yield server, now


async def withdraw_while_submitted(db, api, settings, server, now: list[float]) -> str:
    """Publish on WeChat, withdraw while WeChat is still publishing, then let it finish."""
    article = corpus_articles()[1]
    async with db.transaction() as session:
        await admin.add_unit(session, article["unit"], "county", None, actor="test")
        await admin.add_account(
            session,
            unit=article["unit"],
            platform="wechat",
            name="wechat",
            api_base_url=server.url,
            app_id=WECHAT_APP_ID,
            secret_env="TEST_WECHAT_SECRET",
            default_cover=str(COVER),
            actor="test",
        )
    article_id = (await post_signed(api, article)).json()["article_id"]
    (publication,) = await publications(db)
    async with pipeline(settings, db) as deps:
        assert await publish_publication({"context": deps, "job_try": 1}, publication.id) == "submitted"
        async with db.transaction() as session:
            removing = await request_withdrawal(session, article_id, actor="test", source=None)
        assert removing == [publication.id]
        now[0] += 61  # WeChat finishes publishing while the withdrawal waits for it
        return await withdraw_publication({"context": deps, "job_try": 1}, publication.id)


async def test_withdrawing_a_submitted_wechat_publication_keeps_its_article_id(
    db, api, settings, slow_wechat
) -> None:
    server, now = slow_wechat
    assert await withdraw_while_submitted(db, api, settings, server, now) == "withdrawn"

    (withdrawn,) = await publications(db)
    (article_id_on_wechat,) = emulator_state(server.url)["articles"]
    assert withdrawn.state == PublicationState.WITHDRAWN
    assert withdrawn.remote_id == article_id_on_wechat and withdrawn.published_at is not None
    assert emulator_state(server.url)["articles"][article_id_on_wechat][0]["is_deleted"]
    assert await run_audit(settings, db) == []  # later audits ask WeChat for the article itself


async def test_a_withdrawn_wechat_publish_that_fails_ends_failed_not_published(
    db, api, settings, slow_wechat
) -> None:
    server, now = slow_wechat
    httpx.post(f"{server.url}/_emulator/publish_outcomes", json={"statuses": [3]}).raise_for_status()
    assert await withdraw_while_submitted(db, api, settings, server, now) == "failed"

    (failed,) = await publications(db)
    assert (failed.state, failed.error_code) == (PublicationState.FAILED, "publish_status_3")
    assert await run_audit(settings, db) == []  # nothing went live, nothing is audited by a publish_id


async def test_an_unreadable_post_is_a_finding_and_the_audit_goes_on(
    db, settings, emulators, everywhere
) -> None:
    token_leak = "url: /cgi-bin/freepublish/getarticle?access_token=SECRET-TOKEN-42&x=1"
    inject_faults(
        emulators["wechat"].url,
        queue=[
            {
                "kind": "answer",
                "status": 200,
                "body": {"errcode": 53600, "errmsg": f"Article ID 无效 {token_leak}"},
                "path": "freepublish/getarticle",
            }
        ],
    )
    # The app answers a GET without the body: a malformed answer, for that post only.
    inject_faults(
        emulators["app"].url,
        queue=[
            {"kind": "answer", "status": 200, "body": {"id": "app-1", "title": "x"}, "path": "/v1/articles/"}
        ],
    )
    settings = settings.model_copy(update={"moderation_chat_id": -100})
    drifts = {d.platform: d for d in await run_audit(settings, db, fix=True)}

    assert set(drifts) == {"app", "wechat"} and all(not d.fixed for d in drifts.values())
    assert drifts["app"].kind == DriftKind.UNREADABLE and "KeyError" in (drifts["app"].answer or "")
    wechat = drifts["wechat"]
    assert wechat.kind == DriftKind.UNREADABLE and "53600" in (wechat.answer or "")
    assert "SECRET-TOKEN-42" not in (wechat.answer or "") and "access_token=***" in (wechat.answer or "")
    async with db.transaction() as session:
        alerts = [n.text for n in (await session.exec(select(Notification))).all()]
    assert len(alerts) == 2 and all("无法读取" in text for text in alerts)
    assert not any("SECRET-TOKEN-42" in text for text in alerts)
    assert {p.state for p in await publications(db)} == {PublicationState.PUBLISHED}


async def test_a_gone_app_article_is_missing(db, settings, emulators, everywhere) -> None:
    inject_faults(
        emulators["app"].url,
        queue=[{"kind": "answer", "status": 410, "body": {"error": "deleted"}, "path": "/v1/articles/"}],
    )
    (drift,) = await run_audit(settings, db)
    assert (drift.platform, drift.kind) == ("app", DriftKind.MISSING)


def run_cli(*args: str, database_url: str, redis_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SYNDICATOR_DATABASE_URL": database_url, "SYNDICATOR_REDIS_URL": redis_url}
    return subprocess.run(
        [str(SYNDICATOR), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


async def test_audit_json_is_json_on_stdout_and_unreadable_fails_the_exit_code(
    db, database_url, redis_url, emulators, everywhere
) -> None:
    inject_faults(
        emulators["wechat"].url,
        queue=[{"kind": "answer", "status": 200, "body": {"errcode": 53600, "errmsg": "Article ID 无效"}}],
    )
    result = run_cli("audit", "--json", database_url=database_url, redis_url=redis_url)
    (row,) = json.loads(result.stdout)  # no log line before or among the rows
    assert row["kind"] == "unreadable" and "53600" in row["answer"]
    assert result.returncode == 1
    assert "consistency_unreadable" in result.stderr  # the log went to stderr


def test_check_and_compliance_json_are_json_on_stdout(database_url, redis_url, db) -> None:
    article = sorted((CORPUS / "portal-articles").glob("*.json"))[0]
    checked = run_cli("check", "--json", str(article), database_url=database_url, redis_url=redis_url)
    json.loads(checked.stdout)
    report = run_cli(
        "compliance", "report", "--format", "json", database_url=database_url, redis_url=redis_url
    )
    assert report.returncode == 0, report.stderr
    json.loads(report.stdout)
