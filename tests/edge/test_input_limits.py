"""Finding 10: what the database would choke on is refused at the edge with a 422 naming it.

Integers beyond 64 bits (in a path, a query or a JSON body), page sizes out of range and NUL
characters (PostgreSQL refuses them in text) used to be 500s or unbounded reads.
"""

from __future__ import annotations

import pytest

from syndicator import admin
from tests.support import corpus_articles, post_signed, seed_units_with_app_accounts

HUGE = str(2**64)


@pytest.fixture
async def bearer(db, app_emulator) -> dict[str, str]:
    await seed_units_with_app_accounts(db, app_emulator.url, corpus_articles())
    async with db.transaction() as session:
        await admin.add_user(session, "root", ["admin", "reviewer"], telegram_id=None, scope=None, actor="t")
        return {"Authorization": f"Bearer {await admin.issue_token(session, 'root', actor='t')}"}


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/articles/{HUGE}",
        f"/api/v1/publications/{HUGE}/retry",
        f"/api/v1/reviews/{HUGE}/release",
        f"/api/v1/obligations/{HUGE}/waive",
        f"/api/v1/channels/wechat/{HUGE}/callback",
    ],
)
async def test_ids_beyond_64_bits_are_422(api, bearer, url) -> None:
    method = "GET" if url.startswith("/api/v1/articles") else "POST"
    response = await api.request(method, url, headers=bearer, json={"reason": "x"})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("limit", ["-1", "0", "1000000", HUGE])
@pytest.mark.parametrize("route", ["/api/v1/publications", "/api/v1/comments"])
async def test_page_sizes_out_of_range_are_422(api, bearer, route, limit) -> None:
    response = await api.get(route, params={"limit": limit}, headers=bearer)
    assert response.status_code == 422, response.text
    assert "limit" in response.text


async def test_an_integer_beyond_64_bits_in_a_body_is_422_naming_the_field(api, bearer) -> None:
    body = b'{"title": "x", "page": ' + HUGE.encode() + b"}"
    response = await post_signed(api, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "page"


async def test_nul_in_an_article_is_422_naming_the_field(api, bearer) -> None:
    response = await post_signed(api, {**corpus_articles()[1], "title": "标题\x00"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "title"


async def test_nul_in_a_query_is_422_naming_the_parameter(api, bearer) -> None:
    response = await api.get("/api/v1/comments", params={"state": "pending\x00"}, headers=bearer)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "state"]
