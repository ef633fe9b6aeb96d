"""`syndicator sign`: what a portal integrator runs to sign a request (finding 6's new contract)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from syndicator.cli import app
from syndicator.config import get_settings
from tests.conftest import INGEST_SECRET
from tests.support import corpus_articles, seed_units_with_app_accounts


def signed_by_cli(monkeypatch, *args: str) -> dict[str, str]:
    monkeypatch.setenv("SYNDICATOR_INGEST_SECRET", INGEST_SECRET)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["sign", *args])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.output.strip().splitlines())


async def test_a_request_signed_with_the_cli_is_accepted_once(db, api, app_emulator, tmp_path, monkeypatch):
    await seed_units_with_app_accounts(db, app_emulator.url, corpus_articles())
    body = json.dumps(corpus_articles()[1], ensure_ascii=False).encode()
    (tmp_path / "article.json").write_bytes(body)
    headers = signed_by_cli(monkeypatch, str(tmp_path / "article.json"))
    created = await api.post("/api/v1/articles", content=body, headers=headers)
    assert created.status_code == 202, created.text
    article_id = created.json()["article_id"]
    path = f"/api/v1/articles/{article_id}"
    assert (await api.delete(path, headers=headers)).status_code == 401  # bound to POST
    withdraw = signed_by_cli(monkeypatch, "--method", "DELETE", "--path", path)
    assert (await api.delete(path, headers=withdraw)).status_code == 202
