"""The shared quota (on real Redis) and the intake cadence (pure)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from channels.base import AccountConfig, Platform, RateLimitedError
from syndicator.config import Settings
from syndicator.models import CommentIntake
from syndicator.moderation.cadence import next_poll
from syndicator.quota import Credential, GuardedAdapter, Quota, Use, credential_of

NOW = 1_800_000_000.0
CREDENTIAL = Credential("weibo", "token-hash")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def quota(redis: Redis, clock: Clock) -> Quota:
    return Quota(redis, {"weibo": 10}, background_share=0.5, action_share=0.8, margin_seconds=5, clock=clock)


async def waits(quota: Quota, use: Use, credential: Credential = CREDENTIAL) -> float | None:
    try:
        await quota.admit(credential, use)
    except RateLimitedError as exc:
        assert exc.code == "quota_wait"
        return exc.retry_after
    return None


async def test_a_block_holds_every_use_until_the_reset_plus_the_margin(quota: Quota, clock: Clock) -> None:
    assert await quota.block(CREDENTIAL, 100) == 105
    for use in Use:
        assert await waits(quota, use) == 105
    assert await waits(quota, Use.PUBLISH, Credential("weibo", "another token")) is None
    clock.now += 105
    assert await waits(quota, Use.PUBLISH) is None


async def test_a_reset_of_zero_blocks_for_the_margin_only(quota: Quota, clock: Clock) -> None:
    assert await quota.block(CREDENTIAL, 0) == 5
    clock.now += 5
    assert await waits(quota, Use.BACKGROUND) is None


async def test_a_shorter_reset_never_shortens_a_block(quota: Quota) -> None:
    await quota.block(CREDENTIAL, 600)
    assert await quota.block(CREDENTIAL, 10) == 605
    assert await quota.blocked_for(CREDENTIAL) == 605


async def test_background_and_actions_spend_only_their_share(quota: Quota, clock: Clock) -> None:
    clock.now = 3600 * 500_000 + 600  # ten minutes into an hour
    for _ in range(5):
        assert await waits(quota, Use.BACKGROUND) is None
    assert await waits(quota, Use.BACKGROUND) == 3000  # until the next hour
    for _ in range(3):
        assert await waits(quota, Use.ACTION) is None
    assert await waits(quota, Use.ACTION) == 3000
    for _ in range(5):
        assert await waits(quota, Use.PUBLISH) is None  # over the count: still allowed
    clock.now += 3000
    assert await waits(quota, Use.BACKGROUND) is None


class VerifyingAdapter:
    """Just what GuardedAdapter reads of an adapter, and a count of credential checks."""

    capabilities = None

    def __init__(self) -> None:
        self.verified = 0

    async def verify(self) -> None:
        self.verified += 1


async def test_a_guarded_adapter_verifies_its_credentials_through_the_quota(quota: Quota) -> None:
    inner = VerifyingAdapter()
    guarded = GuardedAdapter(inner, quota, CREDENTIAL)
    await guarded.verify()
    assert inner.verified == 1
    await quota.block(CREDENTIAL, 100)
    with pytest.raises(RateLimitedError):
        await guarded.verify()
    assert inner.verified == 1  # held back: the platform was not called


def test_credentials_are_the_platforms_units_and_hold_no_secret() -> None:
    def account(platform: Platform, account_id: int, **fields: str) -> AccountConfig:
        return AccountConfig(account_id=account_id, platform=platform, name="n", api_base_url="u", **fields)

    weibo_a = credential_of(account(Platform.WEIBO, 1, secret="token-1"))
    assert weibo_a == credential_of(account(Platform.WEIBO, 2, secret="token-1"))  # one token, one quota
    assert "token-1" not in weibo_a.key
    wechat = credential_of(account(Platform.WECHAT, 3, app_id="wx1", secret="s"))
    assert wechat == Credential("wechat", "wx1")


def test_the_cadence_follows_the_articles_age() -> None:
    settings = Settings(comment_poll_schedule=[(24, 120), (168, 1800)], comment_poll_old_seconds=21600)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    intake = CommentIntake(account_id=1, target="m/a", started_at=start)

    def gap(age: timedelta) -> timedelta | None:
        following = next_poll(intake, start + age, settings)
        return None if following is None else following - (start + age)

    assert gap(timedelta(hours=1)) == timedelta(minutes=2)
    assert gap(timedelta(days=3)) == timedelta(minutes=30)
    assert gap(timedelta(days=10)) == timedelta(hours=6)
    assert gap(timedelta(days=30)) is None
    intake.resumed_at = start + timedelta(days=40)  # a moderator asked: new again
    assert gap(timedelta(days=40, hours=1)) == timedelta(minutes=2)
    feed = CommentIntake(account_id=1, target="", started_at=start)
    assert next_poll(feed, start + timedelta(days=400), settings) == start + timedelta(days=400, seconds=60)


async def test_a_limit_on_one_api_holds_back_only_its_kind_of_caller(quota: Quota) -> None:
    # WeChat 45009 on comment/list (a daily quota of that API) must not stop publishing till midnight.
    assert await quota.block(CREDENTIAL, 3600, Use.BACKGROUND) == 3605
    assert await waits(quota, Use.BACKGROUND) == 3605
    assert await waits(quota, Use.PUBLISH) is None
    assert await waits(quota, Use.ACTION) is None
