"""The whole path: signed webhook -> database -> arq on Redis -> app adapter -> app emulator over HTTP."""

from __future__ import annotations

import pytest

from syndicator.models import PublicationState
from tests.support import (
    corpus_articles,
    emulator_state,
    post_signed,
    publications,
    run_worker,
    seed_units_with_app_accounts,
)

pytestmark = pytest.mark.integration


async def test_corpus_articles_reach_the_app(db, settings, api, app_emulator) -> None:
    articles = corpus_articles()
    await seed_units_with_app_accounts(db, app_emulator.url, articles)
    for article in articles:
        response = await post_signed(api, article)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "created"

    await run_worker(settings)

    published = await publications(db)
    assert [p.state for p in published] == [PublicationState.PUBLISHED] * 4
    assert all(p.remote_id and p.remote_id.startswith("app-") for p in published)
    state = emulator_state(app_emulator.url)
    assert state["created"] == 4
    titles = {a["title"] for a in state["articles"].values()}
    assert titles == {a["title"] for a in articles}
