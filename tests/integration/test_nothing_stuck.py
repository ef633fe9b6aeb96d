"""Nothing stays in `sending`: a misconfigured account, an adapter bug and a job that dies before it
records anything each end as a typed failure the dead-letter view shows, told to the chat once,
and `publications retry` sends it after the fix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from channels.app.adapter import AppAdapter
from syndicator import admin
from syndicator.models import ChannelAccount, Notification, PublicationState, Unit, utcnow
from syndicator.pipeline import jobs
from syndicator.pipeline.reconciler import requeue_stuck
from syndicator.publications import list_publications, retry_failed_of_account, retry_publication
from syndicator.queue import connect, enqueue_publish
from tests.conftest import APP_SECRET
from tests.support import corpus_articles, emulator_state, post_signed, publications, run_worker

CHAT = -100123
UNSET = "TEST_SECRET_NOBODY_SET"


@pytest.fixture
def chat_settings(settings):
    settings.moderation_chat_id = CHAT
    return settings


async def seed_app_account(db, url: str, secret_env: str) -> None:
    article = corpus_articles()[1]
    async with db.transaction() as session:
        await admin.add_unit(session, article["unit"], "county", None, actor="test")
        await admin.add_account(
            session,
            unit=article["unit"],
            platform="app",
            name="app",
            api_base_url=url,
            secret_env=secret_env,
            actor="test",
        )


async def deliver_two(api) -> None:
    article = corpus_articles()[1]
    for suffix in ("a", "b"):
        response = await post_signed(api, {**article, "external_id": f"{article['external_id']}-{suffix}"})
        assert response.status_code == 202, response.text


async def retry_all(db, settings) -> None:
    async with db.transaction() as session:
        failed = await list_publications(session, state=PublicationState.FAILED)
        retried = [await retry_publication(session, p.id, actor="test") for p in failed]
    redis = await connect(settings.redis_url, settings.queue_name)
    for publication in retried:
        await enqueue_publish(redis, publication.id, publication.generation)
    await redis.aclose()


async def chat_messages(db) -> list[Notification]:
    async with db.transaction() as session:
        return list((await session.exec(select(Notification))).all())


async def test_a_missing_secret_variable_fails_typed_tells_the_chat_once_and_retry_works(
    db, api, chat_settings, app_emulator, monkeypatch
) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    await seed_app_account(db, app_emulator.url, UNSET)
    await deliver_two(api)
    await run_worker(chat_settings)

    failed = await publications(db)
    assert [p.state for p in failed] == [PublicationState.FAILED] * 2
    assert {p.error_code for p in failed} == {"account_misconfigured"}
    assert UNSET in (failed[0].error_message or "")
    (message,) = await chat_messages(db)  # one account, one problem: told once
    assert "配置有误" in message.text and UNSET in message.text

    monkeypatch.setenv(UNSET, APP_SECRET)
    async with db.transaction() as session:  # what `publications retry --account app` does
        retried = await retry_failed_of_account(session, failed[0].account_id, actor="test")
    redis = await connect(chat_settings.redis_url, chat_settings.queue_name)
    for publication in retried:
        await enqueue_publish(redis, publication.id, publication.generation)
    await redis.aclose()
    await run_worker(chat_settings)
    assert [p.state for p in await publications(db)] == [PublicationState.PUBLISHED] * 2


async def test_a_wechat_account_added_without_its_settings_fails_instead_of_sending_forever(
    db, api, chat_settings
) -> None:
    """The reported case: an account from before the checks, with no app id and no cover."""
    article = corpus_articles()[1]
    async with db.transaction() as session:
        unit = Unit(name=article["unit"], level="county")
        session.add(unit)
        await session.flush()
        session.add(ChannelAccount(unit_id=unit.id, platform="wechat", name="old", secret_env="X"))
    assert (await post_signed(api, article)).status_code == 202
    await run_worker(chat_settings)
    (publication,) = await publications(db)
    assert publication.state == PublicationState.FAILED
    assert publication.error_code == "account_misconfigured"
    assert "--app-id" in (publication.error_message or "")
    assert "--default-cover" in (publication.error_message or "")


async def test_an_adapter_exception_is_an_internal_error_and_retry_reads_back_first(
    db, api, chat_settings, app_emulator, monkeypatch
) -> None:
    await seed_app_account(db, app_emulator.url, "SYNDICATOR_TEST_APP_SECRET")
    original = AppAdapter.publish

    async def publish_then_crash(self, post, key):
        await original(self, post, key)  # the post lands, then our code breaks
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(AppAdapter, "publish", publish_then_crash)
    assert (await post_signed(api, corpus_articles()[1])).status_code == 202
    await run_worker(chat_settings)
    (publication,) = await publications(db)
    assert publication.state == PublicationState.FAILED
    assert publication.error_code == "internal_error"
    assert "ZeroDivisionError" in (publication.error_message or "")
    assert len(await chat_messages(db)) == 1

    monkeypatch.setattr(AppAdapter, "publish", original)
    await retry_all(db, chat_settings)
    await run_worker(chat_settings)
    (publication,) = await publications(db)
    assert publication.state == PublicationState.PUBLISHED
    assert emulator_state(app_emulator.url)["created"] == 1  # read back: the app was not posted twice


async def test_a_publication_that_never_progresses_is_escalated_not_relooped(
    db, api, chat_settings, app_emulator, monkeypatch
) -> None:
    await seed_app_account(db, app_emulator.url, "SYNDICATOR_TEST_APP_SECRET")

    async def poisoned_claim(session, publication_id):
        raise RuntimeError("a bug before anything is recorded")

    monkeypatch.setattr(jobs, "claim", poisoned_claim)
    assert (await post_signed(api, corpus_articles()[1])).status_code == 202
    redis = await connect(chat_settings.redis_url, chat_settings.queue_name)
    try:
        for _ in range(4):
            await run_worker(chat_settings)
            (publication,) = await publications(db)
            assert publication.state == PublicationState.PENDING
            await requeue_stuck(
                db,
                redis,
                older_than=utcnow() + timedelta(seconds=1),
                poll_delay=0,
                escalate_after=3,
                alert_chat=CHAT,
            )
    finally:
        await redis.aclose()
    (publication,) = await publications(db)
    assert publication.state == PublicationState.FAILED and publication.error_code == "stalled"
    (message,) = await chat_messages(db)
    assert "stalled" in message.text
