"""Choosing the chat front ends, and mapping a reviewer to a WeCom member from the CLI."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from syndicator.cli.main import app
from syndicator.config import Settings, get_settings
from tests.integration.test_cli import cli  # noqa: F401  (the fixture)


def test_front_ends_are_chosen_by_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATOR_CHAT_FRONTENDS", "telegram, WeCom")
    assert Settings().chat_frontends == ["telegram", "wecom"]
    monkeypatch.setenv("SYNDICATOR_CHAT_FRONTENDS", "telegram,slack")
    with pytest.raises(ValidationError, match="slack"):
        Settings()


def test_wecom_alone_addresses_moderators_and_officers_without_telegram_chats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SYNDICATOR_CHAT_FRONTENDS", "wecom")
    monkeypatch.setenv("SYNDICATOR_WECOM_MODERATORS", '{"tags": ["3"]}')
    monkeypatch.delenv("SYNDICATOR_MODERATION_CHAT_ID", raising=False)
    monkeypatch.delenv("SYNDICATOR_OFFICER_CHAT_ID", raising=False)
    alone = Settings()
    assert (alone.moderation_chat_id, alone.officer_chat_id, alone.wecom_moderators.tags) == (0, None, ["3"])
    monkeypatch.setenv("SYNDICATOR_WECOM_OFFICERS", '{"users": ["qian"]}')
    assert Settings().officer_chat_id == 1


def test_users_add_maps_a_reviewer_to_a_wecom_member(cli) -> None:  # noqa: F811
    added = cli("users", "add", "wang", "--role", "reviewer", "--wecom-user", "wangxiaoming")
    assert added.exit_code == 0, added.output
    assert "wangxiaoming" in cli("users", "list").output
    again = cli("users", "add", "wang2", "--role", "reviewer", "--wecom-user", "wangxiaoming")
    assert again.exit_code != 0 and "already belongs to another user" in again.output


def test_the_bot_command_names_what_wecom_still_needs(
    monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str
) -> None:
    # A migrated database and a reachable Redis: the start-up checks pass and the WeCom one speaks.
    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("SYNDICATOR_REDIS_URL", redis_url)
    monkeypatch.setenv("SYNDICATOR_CHAT_FRONTENDS", "wecom")
    for name in ("SYNDICATOR_WECOM_CORP_ID", "SYNDICATOR_WECOM_AGENT_ID", "SYNDICATOR_WECOM_SECRET_ENV"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["bot"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0 and "SYNDICATOR_WECOM_CORP_ID" in result.output
