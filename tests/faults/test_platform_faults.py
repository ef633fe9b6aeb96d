"""The platforms misbehave at random on 20 % of calls: 5xx, "system busy", timeouts before and
after committing, connections dropped after committing, quota limits, expired tokens."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from syndicator.demo.stack import derived_articles
from syndicator.models import PublicationState
from tests.faults.conftest import CHANNELS, SEED, Stack, StackBuilder

pytestmark = [pytest.mark.timeout(150)]

ARTICLES = 20
RATE = 0.2
SHARE = "/2/statuses/share.json"


def weibo_error(status: int, code: int, message: str) -> dict[str, Any]:
    body = {"request": SHARE, "error_code": code, "error": message}
    return {"kind": "answer", "status": status, "body": body}


TRANSPORT: list[dict[str, Any]] = [
    {"kind": "status", "status": 503},
    {"kind": "timeout_before"},
    {"kind": "timeout_after"},
    {"kind": "drop_after"},  # connection reset after the platform committed
]
FAULTS: dict[str, list[dict[str, Any]]] = {
    # The app backend's quota answer carries Retry-After (channels/app/adapter.py: 429 -> defer).
    "app": [*TRANSPORT, {"kind": "status", "status": 429, "headers": {"Retry-After": "1"}}],
    "wechat": [
        *TRANSPORT,
        {"kind": "answer", "status": 200, "body": {"errcode": -1, "errmsg": "system error"}},
        # 45009 (daily quota) defers until midnight and 45011 a fixed 60 s (channels/wechat/token.py
        # classify_errcode): neither fits a bounded suite, so WeChat quota is left out here.
    ],
    "weibo": [
        *TRANSPORT,
        weibo_error(500, 10001, "system error!"),
        # 10023: the adapter defers by rate_limit_status' reset_time_in_seconds (answered below).
        weibo_error(400, 10023, "User requests out of rate limit!"),
    ],
}
# WeChat says once that the token expired although it had not (another tool refreshed it).
FAKE_EXPIRY = {
    "kind": "answer",
    "status": 200,
    "body": {"errcode": 42001, "errmsg": "access_token expired"},
    "path": "draft/add",
}
RATE_LIMIT_STATUS = {
    "kind": "answer",
    "status": 200,
    "path": "rate_limit_status",
    "body": {"reset_time_in_seconds": 1, "remaining_user_hits": 0, "user_limit": 30},
}


def unleash(stack: Stack) -> None:
    for offset, channel in enumerate(CHANNELS):
        queue: list[dict[str, Any]] = []
        if channel == "wechat":
            queue = [FAKE_EXPIRY]
        if channel == "weibo":
            queue = [RATE_LIMIT_STATUS] * 300  # consumed only by rate_limit_status calls
        stack.emulators.inject(
            channel, random_rate=RATE, random_faults=FAULTS[channel], seed=SEED + offset, queue=queue
        )


async def expire_wechat_tokens_midway(stack: Stack, after_published: int) -> None:
    """WeChat's clock jumps past every token's lifetime: the next calls get a genuine 42001."""
    deadline = asyncio.get_running_loop().time() + 60
    while (await stack.states())[PublicationState.PUBLISHED] < after_published:
        if asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.1)
    stack.emulators.clocks["wechat"].offset += 2 * 7200
    stack.events["wechat:every-token-expired"] += 1


async def test_platform_faults_at_random(build_stack: StackBuilder) -> None:
    stack = await build_stack(workers=3)
    articles = derived_articles(ARTICLES, tag="p")
    await stack.seed(articles)
    unleash(stack)
    await stack.publish_batch(articles)
    await expire_wechat_tokens_midway(stack, after_published=ARTICLES)
    await stack.wait_settled(ARTICLES * len(CHANNELS), timeout=110)
    result = await stack.verify(articles)
    assert sum(stack.row.faults.values()) >= 10, "hardly any fault was injected"
    result.assert_exactly_once()
