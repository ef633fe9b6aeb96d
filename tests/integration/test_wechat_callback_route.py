"""WeChat's PUBLISHJOBFINISH push completes a submitted publication without waiting for the poll."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from channels.wechat.emulator import create_app as create_wechat
from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.models import PublicationState
from tests.support import corpus_articles, post_signed, publications, run_worker

pytestmark = pytest.mark.integration

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


async def test_url_verification_echoes_only_for_our_token(api) -> None:
    ok = await api.get("/api/v1/channels/wechat/1/callback", params={**signed(), "echostr": "hello"})
    assert ok.status_code == 200 and ok.text == "hello"
    bad = await api.get(
        "/api/v1/channels/wechat/1/callback", params={**signed(token="x"), "echostr": "hello"}
    )
    assert bad.status_code == 403
