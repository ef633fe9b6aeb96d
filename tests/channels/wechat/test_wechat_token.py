"""One token owner per app id: cached in Redis, refreshed ahead of expiry and when WeChat refuses it."""

from __future__ import annotations

import asyncio

import httpx

from channels.wechat.token import TOKEN_KEY


async def test_twenty_concurrent_publishes_fetch_the_token_once(adapter, make_article, emulator):
    post = adapter.render(make_article(body_html="<p>正文。</p>"))
    results = await asyncio.gather(*(adapter.publish(post, f"pub-{n}") for n in range(20)))
    assert len({r.remote_id for r in results}) == 20
    assert emulator.state()["token_calls"] == {"token": 0, "stable_token": 1}


async def test_two_adapters_share_the_token_through_redis(make_adapter, make_article, emulator, redis):
    first, second = make_adapter(), make_adapter()
    post = first.render(make_article(body_html="<p>正文。</p>"))
    await asyncio.gather(first.publish(post, "pub-1"), second.publish(post, "pub-2"))
    assert emulator.state()["token_calls"]["stable_token"] == 1
    ttl = await redis.ttl(TOKEN_KEY.format(app_id=emulator.app.state.wechat.app_id))
    assert 0 < ttl <= 7200 - 300  # refreshed five minutes before WeChat's expiry


async def test_token_expiring_mid_run_is_refreshed_and_the_call_repeated(
    adapter, make_article, emulator, clock, publish_live
):
    post = adapter.render(make_article(body_html="<p>正文。</p>"))
    await adapter.publish(post, "pub-1")
    clock.advance(7200)  # WeChat's token has expired; ours is still cached

    published = await publish_live(adapter, post, "pub-2")

    assert published.state == "published"
    assert emulator.state()["token_calls"]["stable_token"] == 2


async def test_refused_token_that_stable_token_still_hands_out_is_force_refreshed(
    adapter, make_article, emulator
):
    post = adapter.render(make_article(body_html="<p>正文。</p>"))
    emulator.inject(emulator.answer("draft/add", 40001, "invalid credential"))

    await adapter.publish(post, "pub-1")

    # first fetch, a normal-mode fetch that returned the refused token, then one forced fetch
    assert emulator.state()["token_calls"]["stable_token"] == 3
    assert len(emulator.state()["submissions"]) == 1


async def test_refresh_auth_forces_a_new_token(adapter, emulator, make_article):
    post = adapter.render(make_article(body_html="<p>正文。</p>"))
    await adapter.publish(post, "pub-1")
    await adapter.refresh_auth()
    await adapter.publish(post, "pub-2")
    state = emulator.app.state.wechat
    assert emulator.state()["token_calls"]["stable_token"] == 2
    assert len(state.tokens) == 1  # force mode invalidated the previous token


def _token(emulator, path: str, **params: str) -> str:
    wechat = emulator.app.state.wechat
    credentials = {"grant_type": "client_credential", "appid": wechat.app_id, "secret": wechat.app_secret}
    if path == "token":
        return emulator.control.get("/cgi-bin/token", params=credentials).json()["access_token"]
    return emulator.control.post("/cgi-bin/stable_token", json={**credentials, **params}).json()[
        "access_token"
    ]


def _works(emulator, token: str) -> bool:
    answer = emulator.control.post(
        f"/cgi-bin/freepublish/batchget?access_token={token}", json={"offset": 0, "count": 1}
    )
    return answer.json().get("errcode", 0) == 0


def test_emulator_token_refresh_invalidates_the_previous_token_after_five_minutes(emulator, clock):
    old = _token(emulator, "token")
    new = _token(emulator, "token")
    assert _works(emulator, old) and _works(emulator, new)  # both valid during the overlap
    clock.advance(301)
    assert not _works(emulator, old)
    assert _works(emulator, new)


def test_emulator_stable_token_is_stable_and_isolated_from_cgi_bin_token(emulator):
    stable = _token(emulator, "stable_token")
    assert _token(emulator, "stable_token") == stable
    _token(emulator, "token")
    _token(emulator, "token")
    assert _works(emulator, stable)


def test_emulator_tokens_expire(emulator, clock):
    token = _token(emulator, "stable_token")
    clock.advance(7200)
    answer = emulator.control.post(f"/cgi-bin/freepublish/batchget?access_token={token}", json={"count": 1})
    assert answer.json()["errcode"] == 42001
    assert _token(emulator, "stable_token") != token


def test_emulator_rejects_wrong_credentials(emulator):
    answer = httpx.post(f"{emulator.url}/cgi-bin/stable_token", json={"appid": "wxnope", "secret": "x"})
    assert answer.json() == {"errcode": 40013, "errmsg": "invalid appid"}
