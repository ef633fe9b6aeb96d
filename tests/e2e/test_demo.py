"""`syndicator demo` end to end: the corpus on all three channels, obligations and moderation."""

import pytest

from syndicator.demo.run import run_demo


@pytest.mark.timeout(300)  # two whole demo runs (publish, obligations, moderation, WeCom)
async def test_demo_publishes_everything_and_moderates_comments_every_run(settings, capsys) -> None:
    """A second run used to find the first run's Redis keys and report "public in the app: no"."""
    settings.demo_redis_url = settings.redis_url  # this test run's own Redis database
    for _ in range(2):
        assert await run_demo(settings, corpus_dir=None, timeout=90)
        output = capsys.readouterr().out
        assert "12/12 publications published for 4 articles" in output
        assert "on time 3" in output and "overdue 9" in output
        assert "rejected" in output and "approved" in output
        assert "WeCom card after the press: 状态：✅ 已通过 — 张伟" in output and "平台：已生效" in output
