"""Account lifecycle: required settings per platform, show/update/disable/enable/archive, verify."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from channels.wechat.emulator import create_app as create_wechat
from channels.weibo.emulator import create_app as create_weibo
from syndicator.background_server import BackgroundServer
from syndicator.cli import app
from syndicator.config import get_settings
from syndicator.db import open_database
from syndicator.models import AuditEvent, ChannelAccount
from tests.conftest import APP_SECRET, APP_SECRET_ENV
from tests.integration.conftest import COVER, WECHAT_APP_ID

UNIT = "怀化市人民政府办公室"
T = TypeVar("T")


def in_db(database_url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """The CLI runs its own event loop, so these tests are synchronous and reach the database so."""

    async def run() -> T:
        database = open_database(database_url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(run())


@pytest.fixture
def cli(db, database_url, redis_url, monkeypatch):
    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("SYNDICATOR_REDIS_URL", redis_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str):
        get_settings.cache_clear()  # each command reads the environment afresh, as a new process would
        return runner.invoke(app, list(args))

    assert invoke("units", "add", UNIT, "--level", "city").exit_code == 0
    yield invoke
    get_settings.cache_clear()


def add(cli, platform: str, *options: str):
    return cli("accounts", "add", "--unit", UNIT, "--platform", platform, *options)


WECHAT_OK = ("--app-id", WECHAT_APP_ID, "--secret-env", "TEST_WECHAT_SECRET", "--default-cover", str(COVER))
WEIBO_OK = ("--secret-env", "TEST_WEIBO_TOKEN", "--safe-domain", "huaihua.gov.cn")


@pytest.mark.parametrize(
    ("platform", "options", "flag"),
    [
        ("wechat", ("--secret-env", "S", "--default-cover", str(COVER)), "--app-id"),
        ("wechat", ("--app-id", "wx1", "--secret-env", "S"), "--default-cover"),
        ("wechat", ("--app-id", "wx1", "--default-cover", str(COVER)), "--secret-env"),
        ("weibo", ("--secret-env", "S"), "--safe-domain"),
        ("weibo", ("--secret-env", "S", "--safe-domain", "https://huaihua.gov.cn/"), "--safe-domain"),
        ("app", ("--secret-env", "S"), "--api-base-url"),
        ("app", ("--api-base-url", "http://x", "--secret-env", "my secret!"), "--secret-env"),
    ],
)
def test_add_refuses_an_account_without_its_platforms_settings(cli, platform, options, flag) -> None:
    result = add(cli, platform, *options)
    assert result.exit_code == 1
    assert flag in result.output and "Traceback" not in result.output


def test_the_wechat_cover_must_be_a_small_jpeg_or_png(cli, tmp_path: Path) -> None:
    text = tmp_path / "cover.png"
    text.write_text("not an image")
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * 70 * 1024)
    base = ("--app-id", WECHAT_APP_ID, "--secret-env", "TEST_WECHAT_SECRET", "--default-cover")
    assert "not a JPEG or PNG" in add(cli, "wechat", *base, str(text)).output
    assert "64 KB" in add(cli, "wechat", *base, str(big)).output
    assert "cannot be read" in add(cli, "wechat", *base, str(tmp_path / "missing.png")).output
    assert add(cli, "wechat", *WECHAT_OK).exit_code == 0


def test_an_unset_secret_variable_is_a_warning_not_an_error(cli, monkeypatch) -> None:
    monkeypatch.delenv("TEST_WEIBO_TOKEN", raising=False)
    result = add(cli, "weibo", *WEIBO_OK)
    assert result.exit_code == 0
    assert "TEST_WEIBO_TOKEN" in result.output and "warning" in result.output


def test_accounts_are_updated_disabled_enabled_and_archived_with_history(cli, database_url) -> None:
    assert add(cli, "weibo", *WEIBO_OK).exit_code == 0
    name = f"{UNIT}-weibo"
    assert "--safe-domain" in cli("accounts", "update", name, "--safe-domain", "").output
    assert cli("accounts", "update", name, "--safe-domain", "www.huaihua.gov.cn").exit_code == 0
    assert "www.huaihua.gov.cn" in cli("accounts", "show", name).output

    assert cli("accounts", "disable", name).exit_code == 0
    refused = add(cli, "weibo", *WEIBO_OK, "--name", "second")
    assert refused.exit_code == 1 and "disabled" in refused.output  # one live account per platform
    assert cli("accounts", "enable", name).exit_code == 0
    assert cli("accounts", "archive", name).exit_code == 0
    assert cli("accounts", "enable", name).exit_code == 1  # archived is final
    assert cli("accounts", "update", name, "--safe-domain", "x.gov.cn").exit_code == 1
    assert add(cli, "weibo", *WEIBO_OK, "--name", "second").exit_code == 0

    listed = cli("accounts", "list").output
    assert "archived" in listed and "second" in listed  # history kept
    actions = set(in_db(database_url, lambda s: _all(s, select(AuditEvent.action))))
    assert {"account.updated", "account.disabled", "account.active", "account.archived"} <= actions


@pytest.fixture
def platforms(app_emulator, monkeypatch):
    monkeypatch.setenv(APP_SECRET_ENV, APP_SECRET)
    monkeypatch.setenv("TEST_WECHAT_SECRET", "wechat-secret")
    monkeypatch.setenv("TEST_WEIBO_TOKEN", "weibo-token")
    wechat = create_wechat(app_id=WECHAT_APP_ID, app_secret="wechat-secret")
    weibo = create_weibo(access_token="weibo-token", safe_domains=("gov.cn",))
    with BackgroundServer(wechat) as wechat_server, BackgroundServer(weibo) as weibo_server:
        yield {"app": app_emulator.url, "wechat": wechat_server.url, "weibo": weibo_server.url}


def test_verify_prints_ok_or_the_platforms_error_and_clears_needs_reauth(
    cli, database_url, platforms, monkeypatch
) -> None:
    assert add(cli, "app", "--api-base-url", platforms["app"], "--secret-env", APP_SECRET_ENV).exit_code == 0
    assert add(cli, "wechat", *WECHAT_OK, "--api-base-url", platforms["wechat"]).exit_code == 0
    assert add(cli, "weibo", *WEIBO_OK, "--api-base-url", platforms["weibo"]).exit_code == 0
    in_db(database_url, lambda s: _set_reauth(s, True))

    monkeypatch.setenv("TEST_WEIBO_TOKEN", "revoked-token")
    monkeypatch.setenv("TEST_WECHAT_SECRET", "wrong-secret")
    failing = cli("accounts", "verify", "--unit", UNIT)
    assert failing.exit_code == 1
    assert "21332" in failing.output  # Weibo's invalid_access_token
    assert "40001" in failing.output or "40125" in failing.output  # WeChat refused the secret
    assert failing.output.count("OK") == 1, failing.output  # the app

    monkeypatch.setenv("TEST_WEIBO_TOKEN", "weibo-token")  # re-authorised
    monkeypatch.setenv("TEST_WECHAT_SECRET", "wechat-secret")
    passing = cli("accounts", "verify")
    assert passing.exit_code == 0, passing.output
    assert passing.output.count("OK") == 3 and "needs_reauth cleared" in passing.output
    assert in_db(database_url, lambda s: _all(s, select(ChannelAccount.needs_reauth))) == [False] * 3

    monkeypatch.setenv(APP_SECRET_ENV, "not-the-apps-secret")
    assert "signature" in cli("accounts", "verify", f"{UNIT}-app").output


async def _all(session: Any, query: Any) -> list[Any]:
    return list((await session.exec(query)).all())


async def _set_reauth(session: Any, value: bool) -> None:
    weibo = (await session.exec(select(ChannelAccount).where(ChannelAccount.platform == "weibo"))).one()
    weibo.needs_reauth = value


def test_doctor_checks_everything_and_fails_with_a_table(cli, platforms, monkeypatch) -> None:
    from tests.fake_telegram import FakeTelegram

    assert add(cli, "app", "--api-base-url", platforms["app"], "--secret-env", APP_SECRET_ENV).exit_code == 0
    assert add(cli, "weibo", *WEIBO_OK, "--api-base-url", platforms["weibo"]).exit_code == 0
    with FakeTelegram("123:doctor") as telegram:
        monkeypatch.setenv("SYNDICATOR_TELEGRAM_TOKEN", "123:doctor")
        monkeypatch.setenv("SYNDICATOR_TELEGRAM_API_URL", telegram.url)
        healthy = cli("doctor")
        assert healthy.exit_code == 0, healthy.output
        for row in ("database", "redis", "clock vs redis", "telegram", "time zone"):
            assert row in healthy.output
        assert healthy.output.count(" OK ") >= 7 and "getMe: @" in healthy.output

        monkeypatch.delenv("TEST_WEIBO_TOKEN")
        sick = cli("doctor")
    assert sick.exit_code == 1
    assert "secret TEST_WEIBO_TOKEN" in sick.output and "FAIL" in sick.output

    unreachable = cli("doctor")  # Telegram gone too
    assert unreachable.exit_code == 1 and "getMe at" in unreachable.output, unreachable.output
