"""The stack harness the demo, the fault suite and the benchmarks share (syndicator.demo.stack)."""

from __future__ import annotations

from syndicator.demo.stack import Credentials, EmulatorOptions, derived_articles, emulator_command, units_of

CREDENTIALS = Credentials(
    ingest_secret="unit-ingest-secret",
    wechat_app_id="wx0123456789abcdef",
    secrets={
        "app": ("SYNDICATOR_UNIT_APP_SECRET", "unit-app-secret"),
        "wechat": ("SYNDICATOR_UNIT_WECHAT_SECRET", "unit-wechat-secret"),
        "weibo": ("SYNDICATOR_UNIT_WEIBO_TOKEN", "unit-weibo-token"),
    },
)


def test_derived_articles_are_distinct_and_their_titles_fit_wechat_with_the_tag() -> None:
    articles = derived_articles(40, "s1000-123456")
    for field in ("external_id", "url", "title"):
        assert len({article[field] for article in articles}) == 40, field
    assert all(len(article["title"]) <= 32 for article in articles)
    assert all(article["title"].startswith("（s1000-123456") for article in articles)


def test_units_of_names_each_unit_once() -> None:
    articles = derived_articles(30, "u")
    units = units_of(articles, ("app",))
    assert sorted(unit.name for unit in units) == sorted({article["unit"] for article in articles})
    assert all(unit.platforms == ("app",) for unit in units)


def test_an_emulator_process_gets_its_secret_by_variable_never_in_argv() -> None:
    for platform, (variable, secret) in CREDENTIALS.secrets.items():
        argv = " ".join(emulator_command(platform, 18081, CREDENTIALS, EmulatorOptions()))
        assert variable in argv
        assert secret not in argv
