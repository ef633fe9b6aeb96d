"""WeChat's answers mapped onto the channel error taxonomy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.base import (
    AuthExpiredError,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from channels.faults import Fault
from channels.wechat.token import seconds_until_quota_reset


@pytest.mark.parametrize(
    ("errcode", "error_class", "message"),
    [
        (-1, TransientError, "system busy"),
        (45011, RateLimitedError, "minute quota"),
        (48001, PermanentError, "lacks permission"),
        (88000, PermanentError, "no comment"),
        (53503, PermanentError, "publish check"),
        (53504, PermanentError, "admin site"),
        (53505, PermanentError, "saved manually"),
        (99999, PermanentError, "99999 injected"),
    ],
)
async def test_errcode_maps_to_error_class(adapter, make_article, emulator, errcode, error_class, message):
    emulator.inject(emulator.answer("freepublish/submit", errcode))
    with pytest.raises(error_class, match=message) as error:
        await adapter.publish(adapter.render(make_article()), "pub-1")
    assert error.value.code == str(errcode)
    assert emulator.state()["submissions"] == []


async def test_minute_quota_defers_a_minute(adapter, emulator):
    emulator.inject(emulator.answer("freepublish/getarticle", 45011))
    with pytest.raises(RateLimitedError) as error:
        await adapter.fetch_live("art_1")
    assert error.value.retry_after == 60


async def test_daily_quota_defers_until_beijing_midnight(adapter, emulator):
    emulator.post("quota", {"path": "freepublish/getarticle", "remaining": 0})
    with pytest.raises(RateLimitedError) as error:
        await adapter.fetch_live("art_1")
    assert error.value.code == "45009"
    assert 0 < error.value.retry_after <= 86_400
    assert error.value.per_api  # that API's daily quota: publishing on the app id goes on


def test_quota_reset_is_midnight_asia_shanghai():
    # 15:30 UTC is 23:30 in Beijing: half an hour to go.
    assert seconds_until_quota_reset(datetime(2024, 5, 1, 15, 30, tzinfo=UTC)) == 1800


async def test_token_refused_twice_is_auth_expired(adapter, emulator):
    refused = emulator.answer("freepublish/getarticle", 42001, "access_token expired")
    emulator.inject(refused, refused.model_copy())
    with pytest.raises(AuthExpiredError):
        await adapter.fetch_live("art_1")


async def test_server_error_status_is_transient(adapter, emulator):
    emulator.inject(Fault(kind="status", status=503, path="freepublish/getarticle"))
    with pytest.raises(TransientError):
        await adapter.fetch_live("art_1")


async def test_unreachable_platform_is_transient(make_adapter, make_article):
    adapter = make_adapter(base_url="http://127.0.0.1:9")  # discard port: connection refused
    with pytest.raises(TransientError):
        await adapter.publish(adapter.render(make_article()), "pub-1")


async def test_dropped_connection_after_submit_is_outcome_unknown(adapter, make_article, emulator):
    emulator.inject(Fault(kind="drop_after", path="freepublish/submit"))
    with pytest.raises(OutcomeUnknownError):
        await adapter.publish(adapter.render(make_article()), "pub-1")
    assert len(emulator.state()["submissions"]) == 1


async def test_wrong_app_secret_is_permanent(emulator, make_adapter, make_article):
    emulator.app.state.wechat.app_secret = "rotated"
    adapter = make_adapter()
    with pytest.raises(PermanentError, match="app id / secret"):
        await adapter.publish(adapter.render(make_article()), "pub-1")
