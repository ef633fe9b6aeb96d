"""`syndicator emulators`: the printed credentials and `accounts add` lines work as printed."""

from __future__ import annotations

import shlex

import pytest
from typer.testing import CliRunner

from syndicator import rehearsal
from syndicator.background_server import BackgroundServer
from syndicator.cli import app
from syndicator.config import get_settings

UNIT = "示范县人民政府"


def test_the_printed_lines_add_accounts_that_verify(db, database_url, redis_url, monkeypatch) -> None:
    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("SYNDICATOR_REDIS_URL", redis_url)
    runner = CliRunner()

    def cli(*args: str):
        get_settings.cache_clear()
        return runner.invoke(app, list(args))

    servers = [BackgroundServer(e.build()).start() for e in rehearsal.EMULATED.values()]
    try:
        running = [
            rehearsal.Running(e, s.url) for e, s in zip(rehearsal.EMULATED.values(), servers, strict=True)
        ]
        printed = rehearsal.instructions(running, UNIT)
        assert cli("units", "add", UNIT, "--level", "county").exit_code == 0
        for line in printed.splitlines():
            words = shlex.split(line)
            if words[:1] == ["export"]:
                name, _, value = words[1].partition("=")
                monkeypatch.setenv(name, value)
            elif words[:1] == ["syndicator"]:
                added = cli(*words[1:])
                assert added.exit_code == 0, added.output
        verified = cli("accounts", "verify", "--unit", UNIT)
    finally:
        for server in servers:
            server.stop()
        get_settings.cache_clear()
    assert verified.exit_code == 0, verified.output
    assert verified.output.count("OK") == 3


def test_plan_puts_platforms_on_consecutive_ports_and_refuses_unknown_ones() -> None:
    running = rehearsal.plan(["wechat", "weibo"], "127.0.0.1", 9100)
    assert [r.url for r in running] == ["http://127.0.0.1:9100", "http://127.0.0.1:9101"]
    with pytest.raises(ValueError, match="douyin"):
        rehearsal.plan(["douyin"], "127.0.0.1", 9100)
