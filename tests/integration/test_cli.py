"""The operator CLI against the test database (commands and errors are contracts scripts rely on)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from syndicator.cli import app
from syndicator.config import get_settings
from tests.support import CORPUS


@pytest.fixture
def cli(db, database_url, redis_url, monkeypatch):
    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("SYNDICATOR_REDIS_URL", redis_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))

    yield invoke
    get_settings.cache_clear()


def test_units_accounts_and_users_are_administered_from_the_cli(cli) -> None:
    assert cli("units", "add", "怀化市人民政府办公室", "--level", "city").exit_code == 0
    assert (
        cli("units", "add", "怀化市某县", "--level", "county", "--parent", "怀化市人民政府办公室").exit_code
        == 0
    )
    listed = cli("units", "list")
    assert "怀化市某县" in listed.output and "county" in listed.output

    added = cli(
        "accounts",
        "add",
        "--unit",
        "怀化市人民政府办公室",
        "--platform",
        "app",
        "--api-base-url",
        "http://127.0.0.1:9",
        "--secret-env",
        "HH_APP_SECRET",
    )
    assert added.exit_code == 0, added.output
    assert "http://127.0.0.1:9" in cli("accounts", "list").output

    assert (
        cli(
            "users", "add", "alice", "--role", "editor", "--role", "officer", "--telegram-id", "5550001"
        ).exit_code
        == 0
    )
    token = cli("users", "token", "alice").output.strip()
    assert token.startswith("syn_")
    assert "editor,officer" in cli("users", "list").output
    assert cli("users", "revoke", "alice").output.startswith("1 token")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("units", "add", "x", "--level", "galaxy"), "unknown level"),
        (("accounts", "add", "--unit", "nobody", "--platform", "app"), "unknown unit"),
        (("users", "add", "bob", "--role", "emperor"), "unknown role"),
        (("publications", "retry", "404"), "no publication 404"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_1(cli, args, message) -> None:
    result = cli(*args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_a_second_active_account_on_one_platform_is_refused(cli) -> None:
    cli("units", "add", "某县人民政府", "--level", "county")
    weibo = ("--platform", "weibo", "--secret-env", "WEIBO_TOKEN", "--safe-domain", "mx.gov.cn")
    assert cli("accounts", "add", "--unit", "某县人民政府", *weibo).exit_code == 0
    second = cli("accounts", "add", "--unit", "某县人民政府", *weibo, "--name", "another")
    assert second.exit_code == 1 and "one account per platform per unit" in second.output


def test_ingest_file_queues_the_fan_out(cli) -> None:
    cli("units", "add", "兴宁市人民政府办公室", "--level", "county")
    app_account = ("--platform", "app", "--api-base-url", "http://127.0.0.1:9", "--secret-env", "APP_SECRET")
    assert cli("accounts", "add", "--unit", "兴宁市人民政府办公室", *app_account).exit_code == 0
    path = str(CORPUS / "portal-articles" / "001.json")
    first = cli("ingest", path)
    assert first.exit_code == 0 and "created" in first.output and "1 publication(s) queued" in first.output
    assert "duplicate" in cli("ingest", path).output
    assert "pending" in cli("publications", "list").output


def test_every_command_has_help(cli) -> None:
    for command in (
        ["db", "upgrade"],
        ["serve"],
        ["worker"],
        ["demo"],
        ["ingest"],
        ["units", "add"],
        ["accounts", "add"],
        ["users", "add"],
        ["users", "token"],
        ["publications", "list"],
        ["publications", "retry"],
    ):
        assert cli(*command, "--help").exit_code == 0
