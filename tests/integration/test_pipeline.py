"""The whole path: signed webhook -> database -> arq on Redis -> app adapter -> app emulator over HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import redis.asyncio as aioredis
from sqlmodel import select

from channels.http import make_http_client
from syndicator.context import WorkerContext
from syndicator.models import AccountStatus, ChannelAccount, Notification, PublicationState, utcnow
from syndicator.pipeline.reconciler import requeue_stuck
from syndicator.pipeline.sending import claim, send
from syndicator.publications import retry_publication
from syndicator.queue import connect, enqueue_publish
from tests.support import (
    corpus_articles,
    emulator_state,
    inject_faults,
    post_signed,
    publications,
    run_worker,
    seed_units_with_app_accounts,
)


async def test_corpus_articles_reach_the_app(db, settings, api, app_emulator) -> None:
    articles = corpus_articles()
    await seed_units_with_app_accounts(db, app_emulator.url, articles)
    for article in articles:
        response = await post_signed(api, article)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "created"

    await run_worker(settings)

    published = await publications(db)
    assert [p.state for p in published] == [PublicationState.PUBLISHED] * 4
    assert all(p.remote_id and p.remote_id.startswith("app-") for p in published)
    state = emulator_state(app_emulator.url)
    assert state["created"] == 4
    titles = {a["title"] for a in state["articles"].values()}
    assert titles == {a["title"] for a in articles}


@pytest.fixture
async def one_article(db, api, app_emulator):
    """One corpus article ingested through the API, its publication pending on the queue."""
    article = corpus_articles()[1]
    await seed_units_with_app_accounts(db, app_emulator.url, [article])
    response = await post_signed(api, article)
    assert response.status_code == 202
    return article


async def only_publication(db):
    (publication,) = await publications(db)
    return publication


async def test_transient_5xx_then_success_publishes_once(db, settings, one_article, app_emulator) -> None:
    inject_faults(app_emulator.url, queue=[{"kind": "status", "status": 503, "path": "/v1/articles"}] * 2)
    await run_worker(settings)
    publication = await only_publication(db)
    assert publication.state == PublicationState.PUBLISHED and publication.attempts >= 2
    assert emulator_state(app_emulator.url)["created"] == 1


async def test_permanent_error_fails_with_the_platform_code(db, settings, one_article, app_emulator) -> None:
    inject_faults(
        app_emulator.url,
        queue=[
            {"kind": "answer", "status": 400, "body": {"error": "title too long"}, "path": "/v1/articles"}
        ],
    )
    await run_worker(settings)
    publication = await only_publication(db)
    assert publication.state == PublicationState.FAILED
    assert publication.error_code == "400" and "title too long" in publication.error_message
    assert emulator_state(app_emulator.url)["created"] == 0


async def test_a_disabled_account_dead_letters_its_publication_and_tells_the_moderators(
    db, settings, one_article, app_emulator
) -> None:
    """An attempt that cannot run is a typed failure, alerted like any other, never a silent skip."""
    async with db.transaction() as session:
        (account,) = (await session.exec(select(ChannelAccount))).all()
        account.status = AccountStatus.DISABLED
    await run_worker(settings.model_copy(update={"moderation_chat_id": -1001}))
    publication = await only_publication(db)
    assert (publication.state, publication.error_code) == (PublicationState.FAILED, "account_inactive")
    async with db.transaction() as session:
        (alert,) = (await session.exec(select(Notification))).all()
    assert "已停用" in alert.text
    assert emulator_state(app_emulator.url)["created"] == 0


@pytest.mark.parametrize("kind", ["timeout_after", "drop_after"])
async def test_lost_answer_after_commit_is_read_back_not_reposted(
    db, settings, one_article, app_emulator, kind
) -> None:
    inject_faults(app_emulator.url, hang_seconds=3, queue=[{"kind": kind, "path": "/v1/articles"}])
    await run_worker(settings)
    publication = await only_publication(db)
    state = emulator_state(app_emulator.url)
    assert publication.state == PublicationState.PUBLISHED
    assert state["created"] == 1 and len(state["push_log"]) == 2  # the second push was the read-back
    assert publication.remote_id == state["push_log"][0]["article_id"]


async def test_retries_run_out_into_the_dead_letter_state_and_can_be_retried(
    db, settings, one_article, app_emulator
) -> None:
    inject_faults(app_emulator.url, random_rate=1.0, random_faults=[{"kind": "status", "status": 502}])
    await run_worker(settings)
    publication = await only_publication(db)
    assert publication.state == PublicationState.FAILED
    assert (
        publication.error_code == "retries_exhausted"
        and publication.attempts == settings.publish_max_attempts
    )

    httpx.delete(f"{app_emulator.url}/_emulator/faults")
    async with db.transaction() as session:
        retried = await retry_publication(session, publication.id, actor="test")
    redis = await connect(settings.redis_url, settings.queue_name)
    await enqueue_publish(redis, retried.id, retried.generation)
    await redis.aclose()
    await run_worker(settings)
    assert (await only_publication(db)).state == PublicationState.PUBLISHED
    assert emulator_state(app_emulator.url)["created"] == 1


async def test_quota_limit_defers_without_using_up_attempts(db, settings, one_article, app_emulator) -> None:
    inject_faults(
        app_emulator.url,
        queue=[
            {
                "kind": "answer",
                "status": 429,
                "body": {"error": "slow down"},
                "headers": {"Retry-After": "0"},
                "path": "/v1/articles",
            }
        ]
        * 5,
    )
    await run_worker(settings)
    publication = await only_publication(db)
    assert publication.state == PublicationState.PUBLISHED and publication.attempts == 0


async def test_worker_killed_between_intent_and_call_loses_nothing(
    db, settings, one_article, app_emulator
) -> None:
    # A worker records intent and dies before calling the platform; then Redis loses its queue.
    async with db.transaction() as session:
        assert await claim(session, (await only_publication(db)).id) is not None
    await flush_queue(settings)

    await requeue_everything(db, settings)
    await run_worker(settings)
    publication = await only_publication(db)
    assert publication.state == PublicationState.PUBLISHED
    assert emulator_state(app_emulator.url)["created"] == 1


async def test_worker_killed_after_the_call_does_not_post_twice(
    db, settings, one_article, app_emulator
) -> None:
    # The platform got the push, but the worker died before recording the answer.
    async with db.transaction() as session:
        plan = await claim(session, (await only_publication(db)).id)
    async with make_http_client() as http:
        adapter = WorkerContext(settings=settings, db=db, redis=None, http=http).adapter_for(plan.account)
        await send(adapter, plan)
    await flush_queue(settings)

    await requeue_everything(db, settings)
    await run_worker(settings)
    state = emulator_state(app_emulator.url)
    assert (await only_publication(db)).state == PublicationState.PUBLISHED
    assert state["created"] == 1


async def test_redis_flushed_with_publications_pending_reconciler_finishes_them(
    db, settings, api, app_emulator
) -> None:
    articles = corpus_articles()
    await seed_units_with_app_accounts(db, app_emulator.url, articles)
    for article in articles:
        await post_signed(api, article)
    await flush_queue(settings)

    assert await requeue_everything(db, settings) == 4
    await run_worker(settings)
    assert {p.state for p in await publications(db)} == {PublicationState.PUBLISHED}
    assert emulator_state(app_emulator.url)["created"] == 4


async def test_reconciler_leaves_queued_jobs_alone(db, settings, one_article) -> None:
    assert await requeue_everything(db, settings) == 0  # the ingest already queued it


async def test_correction_updates_the_app_in_place_and_supersedes_the_old(
    db, settings, api, one_article, app_emulator
) -> None:
    await run_worker(settings)
    corrected = {**one_article, "body_html": one_article["body_html"] + "<p>(更正)</p>"}
    response = await post_signed(api, corrected)
    assert response.json()["status"] == "corrected"
    await run_worker(settings)

    old, new = await publications(db)
    assert old.state == PublicationState.SUPERSEDED and new.state == PublicationState.PUBLISHED
    assert new.remote_id == old.remote_id
    live = emulator_state(app_emulator.url)["articles"][new.remote_id]
    assert live["revision"] == 2 and "(更正)" in live["body_html"]


async def flush_queue(settings) -> None:
    client = aioredis.Redis.from_url(settings.redis_url)
    await client.flushdb()
    await client.aclose()


async def requeue_everything(db, settings) -> int:
    redis = await connect(settings.redis_url, settings.queue_name)
    try:
        return await requeue_stuck(db, redis, older_than=utcnow() + timedelta(seconds=1), poll_delay=0)
    finally:
        await redis.aclose()
