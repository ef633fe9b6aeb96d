"""Weibo error answers, transport failures and limits mapped to the channel error taxonomy."""

from __future__ import annotations

import socket

import httpx
import pytest
from weibo_support import HOURLY_LIMIT, TOKEN_TTL_SECONDS, Emulator, FakeClock, make_account, make_article

from channels.base import (
    AuthExpiredError,
    ChannelError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from channels.weibo.adapter import WeiboAdapter

SHARE = "/2/statuses/share.json"
SECONDS_TO_NEXT_HOUR = 45 * 60  # FakeClock starts at 02:15 UTC


def weibo_error(code: int, text: str, status: int = 400) -> dict[str, object]:
    body = {"request": SHARE, "error_code": code, "error": text}
    return {"kind": "answer", "status": status, "body": body, "path": "/statuses/share"}


async def publish(adapter: WeiboAdapter, title: str = "关于加强政府网站信息内容建设的通知") -> None:
    await adapter.publish(adapter.render(make_article(title=title)), key=f"pub:{title}")


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (10001, 500, TransientError),
        (10002, 503, TransientError),
        (10009, 503, TransientError),
        (21315, 401, AuthExpiredError),
        (21327, 401, AuthExpiredError),
        (21332, 401, AuthExpiredError),
        (20020, 400, PermanentError),
        (20021, 400, PermanentError),
        (20018, 400, PermanentError),
        (29999, 400, PermanentError),  # unknown codes are permanent
    ],
)
async def test_weibo_error_codes_map_to_typed_errors(
    adapter: WeiboAdapter, emulator: Emulator, code: int, status: int, expected: type[ChannelError]
) -> None:
    await emulator.faults(weibo_error(code, f"platform says {code}", status))
    with pytest.raises(expected) as caught:
        await publish(adapter)
    assert type(caught.value) is expected
    assert caught.value.code == str(code)
    assert caught.value.message == f"platform says {code}"
    assert (await emulator.state())["shares"] == []


async def test_a_5xx_without_weibo_body_is_transient(adapter: WeiboAdapter, emulator: Emulator) -> None:
    await emulator.faults({"kind": "status", "status": 502, "path": "/statuses/share"})
    with pytest.raises(TransientError):
        await publish(adapter)


async def test_an_unreachable_platform_is_transient(http: httpx.AsyncClient) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = WeiboAdapter(account=make_account(f"http://127.0.0.1:{port}"), http=http, rip="203.0.113.7")
    with pytest.raises(TransientError) as caught:
        await publish(adapter)
    assert caught.value.code == "transport"


async def test_the_emulator_answers_errors_in_weibo_shape(emulator: Emulator) -> None:
    form = {"access_token": "weibo-test-token", "status": "无链接的微博", "rip": "203.0.113.7"}
    response = await emulator.http.post(f"{emulator.url}{SHARE}", data=form)
    assert response.status_code == 400
    assert response.json() == {"request": SHARE, "error_code": 10017, "error": "text not find domain!"}
    form["status"] = "外部链接 https://www.example.com/a.html"
    assert (await emulator.http.post(f"{emulator.url}{SHARE}", data=form)).json()["error_code"] == 20018
    form["status"] = "长" * 141 + " https://www.gov.cn/a.html"
    assert (await emulator.http.post(f"{emulator.url}{SHARE}", data=form)).json()["error_code"] == 20012
    del form["rip"]
    assert (await emulator.http.post(f"{emulator.url}{SHARE}", data=form)).json()["error_code"] == 10016


async def test_the_hourly_share_limit_defers_until_the_window_resets(
    adapter: WeiboAdapter, emulator: Emulator
) -> None:
    for number in range(HOURLY_LIMIT):
        await publish(adapter, title=f"第{number}号通知")
    with pytest.raises(RateLimitedError) as caught:
        await publish(adapter, title="超出限额的通知")
    assert caught.value.code == "10024"
    assert caught.value.retry_after == SECONDS_TO_NEXT_HOUR  # from account/rate_limit_status
    assert len((await emulator.state())["shares"]) == HOURLY_LIMIT


@pytest.mark.parametrize("code", [10022, 10023, 10024, 20016])
async def test_rate_limit_codes_fall_back_to_the_next_hour(
    adapter: WeiboAdapter, emulator: Emulator, code: int
) -> None:
    unavailable = {"kind": "status", "status": 503, "path": "/account/rate_limit_status"}
    await emulator.faults(weibo_error(code, "out of rate limit"), unavailable)
    with pytest.raises(RateLimitedError) as caught:
        await publish(adapter)
    assert caught.value.retry_after == SECONDS_TO_NEXT_HOUR


async def test_an_expired_token_asks_for_reauthorisation(
    adapter: WeiboAdapter, emulator: Emulator, clock: FakeClock
) -> None:
    clock.advance(TOKEN_TTL_SECONDS + 1)
    with pytest.raises(AuthExpiredError) as caught:
        await publish(adapter)
    assert caught.value.code == "21327"
    with pytest.raises(PermanentError) as refused:
        await adapter.refresh_auth()
    assert refused.value.code == "reauthorize"
    assert "re-authorisation" in refused.value.message and "某市人民政府" in refused.value.message


async def test_a_wrong_token_is_an_auth_error(emulator: Emulator, http: httpx.AsyncClient) -> None:
    adapter = WeiboAdapter(account=make_account(emulator.url, secret="stolen"), http=http, rip="203.0.113.7")
    with pytest.raises(AuthExpiredError) as caught:
        await publish(adapter)
    assert caught.value.code == "21332"


async def test_a_reported_reset_of_zero_means_now_not_the_next_hour(
    adapter: WeiboAdapter, emulator: Emulator
) -> None:
    # Regression: 0 was read as "unknown" and deferred to the next clock hour (45 min here).
    reset_now = {"reset_time_in_seconds": 0, "remaining_user_hits": 0, "user_limit": HOURLY_LIMIT}
    lookup = {"kind": "answer", "status": 200, "body": reset_now, "path": "/account/rate_limit_status"}
    await emulator.faults(weibo_error(10023, "User requests out of rate limit!"), lookup)
    with pytest.raises(RateLimitedError) as caught:
        await publish(adapter)
    assert caught.value.retry_after == 0  # the quota adds its margin


@pytest.mark.parametrize(("code", "per_api"), [(10022, False), (10023, False), (10024, True), (20016, True)])
async def test_rate_limits_say_whether_they_bind_the_token_or_one_api(
    adapter: WeiboAdapter, emulator: Emulator, code: int, per_api: bool
) -> None:
    await emulator.faults(weibo_error(code, "out of rate limit"))
    with pytest.raises(RateLimitedError) as caught:
        await publish(adapter)
    assert caught.value.per_api is per_api
