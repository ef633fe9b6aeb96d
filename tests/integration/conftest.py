"""Fixtures for tests that need the three channel emulators at once."""

from __future__ import annotations

import pytest

from channels.wechat.emulator import create_app as create_wechat
from channels.weibo.emulator import create_app as create_weibo
from syndicator import admin
from syndicator.background_server import BackgroundServer
from syndicator.demo.stack import COVER
from syndicator.models import PublicationState
from tests.conftest import APP_SECRET_ENV
from tests.support import corpus_articles, post_signed, publications, run_worker

WECHAT_APP_ID = "wx0123456789abcdef"
WEIBO_TOKEN = "weibo-token"


@pytest.fixture
def emulators(app_emulator, monkeypatch):
    monkeypatch.setenv("TEST_WECHAT_SECRET", "wechat-secret")
    monkeypatch.setenv("TEST_WEIBO_TOKEN", "weibo-token")
    wechat = create_wechat(app_id=WECHAT_APP_ID, app_secret="wechat-secret", publish_delay_seconds=0)
    weibo = create_weibo(access_token="weibo-token", safe_domains=("gov.cn",))
    with BackgroundServer(wechat) as wechat_server, BackgroundServer(weibo) as weibo_server:
        yield {"app": app_emulator, "wechat": wechat_server, "weibo": weibo_server}


@pytest.fixture
async def everywhere(db, api, settings, emulators):
    """One article published on the app, WeChat and Weibo."""
    article = corpus_articles()[1]
    async with db.transaction() as session:
        await admin.add_unit(session, article["unit"], "county", None, actor="test")
        for platform, options in (
            ("app", {"secret_env": APP_SECRET_ENV}),
            (
                "wechat",
                {"app_id": WECHAT_APP_ID, "secret_env": "TEST_WECHAT_SECRET", "default_cover": str(COVER)},
            ),
            ("weibo", {"secret_env": "TEST_WEIBO_TOKEN", "safe_domain": "xingning.gov.cn"}),
        ):
            await admin.add_account(
                session,
                unit=article["unit"],
                platform=platform,
                name=platform,
                api_base_url=emulators[platform].url,
                actor="test",
                **options,
            )
    article_id = (await post_signed(api, article)).json()["article_id"]
    await run_worker(settings)
    assert {p.state for p in await publications(db)} == {PublicationState.PUBLISHED}
    return article_id
