"""The platform calls one send makes (pipeline.sending.send), against a scripted FakeAdapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from channels.base import ArticleContent, Capabilities, CorrectionStrategy, PublishResult, TransientError
from syndicator.models import ChannelAccount
from syndicator.pipeline.sending import SendPlan, send
from tests.fakes import NON_IDEMPOTENT, FakeAdapter

CONTENT = ArticleContent(
    external_id="a-1",
    title="关于调整办事时间的通知",
    body_html="<p>正文</p>",
    url="https://portal.example.gov.cn/a-1",
    unit="市政府办公室",
    published_at=datetime(2026, 11, 30, tzinfo=UTC),
    version=1,
)
PLAN = SendPlan(
    publication_id=1, key="syndicator-k1", account=ChannelAccount(), content=CONTENT, outcome_unknown=False
)


async def test_a_first_send_publishes_once_under_the_publications_key() -> None:
    adapter = FakeAdapter()
    result = await send(adapter, PLAN)
    assert result.remote_id == "post-syndicator-k1"
    assert [name for name, _ in adapter.calls] == ["publish"]


async def test_after_an_unknown_outcome_a_post_that_landed_is_found_not_posted_again() -> None:
    adapter = FakeAdapter().script("recover", PublishResult(remote_id="landed"))
    assert (await send(adapter, replace(PLAN, outcome_unknown=True))).remote_id == "landed"
    assert not adapter.called("publish")


async def test_after_an_unknown_outcome_a_post_that_did_not_land_is_sent() -> None:
    adapter = FakeAdapter()
    await send(adapter, replace(PLAN, outcome_unknown=True))
    assert [name for name, _ in adapter.calls] == ["recover", "publish"]


async def test_a_withdrawn_articles_send_in_doubt_is_only_read_back() -> None:
    """Nothing found means nothing to remove: never a new post of a withdrawn article."""
    adapter = FakeAdapter()
    assert await send(adapter, replace(PLAN, outcome_unknown=True, read_back_only=True)) is None
    assert [name for name, _ in adapter.calls] == ["recover"]


async def test_an_idempotent_platform_is_simply_asked_again() -> None:
    adapter = FakeAdapter(capabilities=replace(NON_IDEMPOTENT, idempotent_publish=True))
    await send(adapter, replace(PLAN, outcome_unknown=True))
    assert [name for name, _ in adapter.calls] == ["publish"]


@pytest.mark.parametrize(
    ("strategy", "calls"),
    [
        (CorrectionStrategy.UPDATE_IN_PLACE, ["update"]),
        (CorrectionStrategy.REPUBLISH, ["withdraw", "publish"]),
    ],
)
async def test_a_correction_follows_the_platforms_strategy(
    strategy: CorrectionStrategy, calls: list[str]
) -> None:
    capabilities: Capabilities = replace(NON_IDEMPOTENT, correction=strategy)
    adapter = FakeAdapter(capabilities=capabilities)
    await send(adapter, replace(PLAN, previous_remote_id="old-post"))
    assert [name for name, _ in adapter.calls] == calls
    assert adapter.calls[0][1][0] == "old-post"


async def test_a_platform_error_reaches_the_caller_untouched() -> None:
    adapter = FakeAdapter().script("publish", TransientError("502 from the gateway"))
    with pytest.raises(TransientError):
        await send(adapter, PLAN)
