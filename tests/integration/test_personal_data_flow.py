"""Personal data end to end: `syndicator check` exits 2 on the issue's case; a unit's registered
contact numbers and the office allow-list let official numbers through ingest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicator.cli import app
from syndicator.config import get_settings

APPENDIX = Path(__file__).resolve().parents[1] / "checks" / "data" / "personal-data-appendix.json"


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


def test_check_holds_an_appendix_naming_a_citizen(cli) -> None:
    result = cli("check", str(APPENDIX), "--json")

    assert result.exit_code == 2
    [report] = json.loads(result.output)
    blocking = {(f["rule"], f["field"]) for f in report["findings"] if f["severity"] == "block"}
    assert {
        ("personal_data.id_number", "body"),
        ("personal_data.phone", "body"),
        ("personal_data.address", "body"),
        ("personal_data.phone", "attachment"),
    } <= blocking
    # The report masks what it found: it is stored and shown.
    assert "441481197803152038" not in result.output and "13922334455" not in result.output


def _official_only(tmp_path: Path) -> Path:
    article = json.loads(APPENDIX.read_text(encoding="utf-8"))
    article["body_html"] = article["body_html"].split("<p>附件")[0] + "<p>兴宁市民政局</p>"
    article["attachments"] = []
    path = tmp_path / "official.json"
    path.write_text(json.dumps(article, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_units_registered_number_passes_ingest(cli, tmp_path: Path) -> None:
    path = _official_only(tmp_path)
    assert cli("check", str(path)).exit_code == 1  # an unregistered office number: a warning

    assert (
        cli("units", "add", "兴宁市民政局", "--level", "county", "--contact-phone", "0753-333 2110").exit_code
        == 0
    )
    cli("accounts", "add", "--unit", "兴宁市民政局", "--platform", "app")
    assert "07533332110" in cli("units", "list").output
    ingested = cli("ingest", str(path))

    assert ingested.exit_code == 0 and "created" in ingested.output and "held" not in ingested.output


def test_the_office_allow_list_file_is_read(cli, tmp_path: Path, monkeypatch) -> None:
    allow = tmp_path / "contacts.tsv"
    allow.write_text("# official numbers\n0753-3332110\t民政局监督电话\n", encoding="utf-8")
    monkeypatch.setenv("SYNDICATOR_CONTACT_ALLOWLIST_FILE", str(allow))
    get_settings.cache_clear()

    assert cli("check", str(_official_only(tmp_path))).exit_code == 0


def test_units_update_replaces_contact_numbers(cli) -> None:
    cli("units", "add", "某县政府办", "--level", "county")
    updated = cli(
        "units", "update", "某县政府办", "--contact-phone", "+86 755 1234 5678", "--contact-phone", "12345"
    )
    assert updated.exit_code == 0 and "075512345678" in updated.output
    assert cli("units", "update", "某县政府办", "--contact-phone", "abc").exit_code == 1
    assert "contact phones: -" in cli("units", "update", "某县政府办", "--clear-contact-phones").output
