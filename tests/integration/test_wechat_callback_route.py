"""WeChat's PUBLISHJOBFINISH push completes a submitted publication without waiting for the poll."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from channels.wechat.callback import CallbackRejectedError, verify_signature
from channels.wechat.emulator import create_app as create_wechat
from syndicator import admin
from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.models import PublicationState
from tests.support import corpus_articles, post_signed, publications, run_worker

TOKEN = "callback-token"
APP_ID = "wx0123456789abcdef"
COVER = Path(__file__).resolve().parents[2] / "syndicator" / "demo" / "cover.png"


@pytest.fixture
def settings(settings):
    # The regular poll is far away: only the push can complete the publication in this test.
    return settings.model_copy(
        update={"wechat_callback_token": SecretStr(TOKEN), "async_publish_poll_seconds": 3600}
    )


def signed(timestamp: str = "1700000000", nonce: str = "n0nce", token: str = TOKEN) -> dict[str, str]:
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def push(publish_id: str) -> str:
    return (
        "<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[PUBLISHJOBFINISH]]></Event>"
        f"<PublishEventInfo><publish_id>{publish_id}</publish_id><publish_status>0</publish_status>"
        "</PublishEventInfo></xml>"
    )


async def test_push_completes_a_submitted_publication(db, settings, api, monkeypatch) -> None:
    monkeypatch.setenv("TEST_WECHAT_SECRET", "wechat-secret")
    article = corpus_articles()[1]
    emulator = create_wechat(app_id=APP_ID, app_secret="wechat-secret", publish_delay_seconds=0)
    with BackgroundServer(emulator) as server:
        async with db.transaction() as session:
            await admin.add_unit(session, article["unit"], "county", None, actor="test")
            account = await admin.add_account(
                session,
                unit=article["unit"],
                platform="wechat",
                name="wx",
                api_base_url=server.url,
                app_id=APP_ID,
                secret_env="TEST_WECHAT_SECRET",
                default_cover=str(COVER),
                actor="test",
            )
        await post_signed(api, article)
        await run_worker(settings, max_burst_jobs=1)
        (publication,) = await publications(db)
        assert publication.state == PublicationState.SUBMITTED
        client = aioredis.Redis.from_url(settings.redis_url)
        await client.delete(settings.queue_name)  # drop the far-away regular poll
        await client.aclose()

        url = f"/api/v1/channels/wechat/{account.id}/callback"
        forged = await api.post(url, params=signed(token="not-ours"), content=push(publication.remote_id))
        assert forged.status_code == 403
        answer = await api.post(url, params=signed(), content=push(publication.remote_id))
        assert answer.status_code == 200 and answer.text == "success"
        await run_worker(settings)

    (publication,) = await publications(db)
    assert publication.state == PublicationState.PUBLISHED
    assert publication.remote_url and publication.remote_details["publish_id"]


async def accounts(db) -> dict[str, int]:
    async with db.transaction() as session:
        await admin.add_unit(session, "测试单位", "county", None, actor="test")
        ids = {}
        wechat = {"app_id": APP_ID, "secret_env": "TEST_WECHAT_SECRET", "default_cover": str(COVER)}
        for platform, options in (("wechat", wechat), ("app", {"secret_env": "TEST_APP_SECRET"})):
            account = await admin.add_account(
                session,
                unit="测试单位",
                platform=platform,
                name=platform,
                api_base_url="http://127.0.0.1:9",
                actor="test",
                **options,
            )
            ids[platform] = account.id
    return ids


async def test_url_verification_echoes_only_for_our_token(db, api) -> None:
    wechat = (await accounts(db))["wechat"]
    url = f"/api/v1/channels/wechat/{wechat}/callback"
    ok = await api.get(url, params={**signed(), "echostr": "hello"})
    assert ok.status_code == 200 and ok.text == "hello"
    bad = await api.get(url, params={**signed(token="x"), "echostr": "hello"})
    assert bad.status_code == 403


async def test_the_callback_answers_only_for_wechat_accounts(db, api) -> None:
    """Finding 10: the verify route echoed for any account id, WeChat or not."""
    ids = await accounts(db)
    for account_id in (ids["app"], 99_999):
        url = f"/api/v1/channels/wechat/{account_id}/callback"
        assert (await api.get(url, params={**signed(), "echostr": "hello"})).status_code == 404
        assert (await api.post(url, params=signed(), content=push("1"))).status_code == 404


async def test_an_empty_callback_token_is_refused_not_trusted(db, settings) -> None:
    """Finding 10: with no token configured, sha1("" + timestamp + nonce) verified forged pushes."""
    untokened = settings.model_copy(update={"wechat_callback_token": SecretStr("")})
    url = f"/api/v1/channels/wechat/{(await accounts(db))['wechat']}/callback"
    with BackgroundServer(create_app(untokened)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
            forged = await api.get(url, params={**signed(token=""), "echostr": "hello"})
            assert forged.status_code == 404 and forged.text != "hello"
            assert (await api.post(url, params=signed(token=""), content=push("1"))).status_code == 404


def test_verify_signature_refuses_an_empty_token() -> None:
    with pytest.raises(CallbackRejectedError, match="no callback token"):
        verify_signature("", signed(token=""))
