"""What the CLI owes an operator: every file checked before any is ingested, JSON errors with line
and column, publications by title and account, an unknown state refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicator.cli import app
from syndicator.config import get_settings
from tests.support import CORPUS

UNIT = "兴宁市人民政府办公室"


@pytest.fixture
def cli(db, database_url, redis_url, monkeypatch):
    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("SYNDICATOR_REDIS_URL", redis_url)
    runner = CliRunner()

    def invoke(*args: str):
        get_settings.cache_clear()
        return runner.invoke(app, list(args))

    assert invoke("units", "add", UNIT, "--level", "county").exit_code == 0
    added = invoke(
        "accounts", "add", "--unit", UNIT, "--platform", "app", "--name", "兴宁-app",
        "--api-base-url", "http://127.0.0.1:9", "--secret-env", "APP_SECRET",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    yield invoke
    get_settings.cache_clear()


def test_ingest_checks_every_file_before_ingesting_any(cli, tmp_path: Path) -> None:
    good = CORPUS / "portal-articles" / "001.json"
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "title": "x",\n  "unit": oops\n}\n', encoding="utf-8")
    incomplete = tmp_path / "incomplete.json"
    article = json.loads(good.read_text())
    del article["title"]
    incomplete.write_text(json.dumps(article, ensure_ascii=False), encoding="utf-8")

    result = cli("ingest", str(good), str(broken), str(incomplete))
    assert result.exit_code == 1
    assert f"{broken}: invalid JSON at line 3 column 11" in result.output
    assert f"{incomplete}: field title" in result.output
    assert "nothing was ingested" in result.output
    assert "(none)" in cli("publications", "list").output

    assert cli("ingest", str(good)).exit_code == 0


def test_publications_list_names_the_article_and_account_and_refuses_unknown_states(cli) -> None:
    assert cli("ingest", str(CORPUS / "portal-articles" / "001.json")).exit_code == 0
    listed = cli("publications", "list").output
    title = json.loads((CORPUS / "portal-articles" / "001.json").read_text())["title"]
    assert title[:10] in listed and "兴宁-app" in listed and "pending" in listed
    assert json.loads(cli("publications", "list", "--json").output)[0]["title"] == title

    wrong = cli("publications", "list", "--state", "faild")
    assert wrong.exit_code != 0 and "faild" in wrong.output


def test_retry_takes_a_publication_or_an_account(cli) -> None:
    assert "not both" in cli("publications", "retry").output
    assert "not both" in cli("publications", "retry", "1", "--account", "兴宁-app").output
    assert "no failed publications" in cli("publications", "retry", "--account", "兴宁-app").output
    assert "unknown account" in cli("publications", "retry", "--account", "nobody").output
