"""The signed webhook and the token-protected API over real HTTP."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from channels.signing import signed_headers
from syndicator import admin
from syndicator.models import Article, AuditEvent, Publication, RefusalCount, WebhookDelivery, utcnow
from tests.conftest import INGEST_SECRET
from tests.support import corpus_articles, post_signed, seed_units_with_app_accounts


@pytest.fixture
async def seeded(db, app_emulator):
    await seed_units_with_app_accounts(db, app_emulator.url, corpus_articles())


async def count(db, model) -> int:
    async with db.transaction() as session:
        return len((await session.exec(select(model))).all())


async def test_signed_article_is_accepted_with_its_id_and_state(db, api, seeded) -> None:
    response = await post_signed(api, corpus_articles()[1])
    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "active" and body["status"] == "created" and body["version"] == 1
    assert len(body["publications"]) == 1 and body["article_id"] > 0


async def test_wrong_secret_is_401_and_counted_not_audited_one_by_one(db, api, seeded) -> None:
    """Finding 10: a fuzzing run wrote one audit row per refusal; now one counter row a minute."""
    for _ in range(5):
        response = await post_signed(api, corpus_articles()[1], secret="not-the-secret")
        assert response.status_code == 401
        assert "does not match" in response.json()["detail"]
    assert await count(db, Article) == 0
    async with db.transaction() as session:
        events = (await session.exec(select(AuditEvent).where(AuditEvent.action == "webhook.rejected"))).all()
        counters = (await session.exec(select(RefusalCount))).all()
    assert events == []
    assert sum(c.count for c in counters) == 5 and len(counters) <= 2  # a minute may turn over
    assert {c.action for c in counters} == {"webhook.rejected"}


async def test_stale_signature_is_401(db, api, seeded) -> None:
    response = await post_signed(api, corpus_articles()[1], now=time.time() - 301)
    assert response.status_code == 401 and "stale" in response.json()["detail"]


async def test_unsigned_request_is_401(db, api, seeded) -> None:
    response = await api.post("/api/v1/articles", json=corpus_articles()[1])
    assert response.status_code == 401 and "missing" in response.json()["detail"]


def signed(body: bytes, method: str = "POST", path: str = "/api/v1/articles", now: float | None = None):
    return {"Content-Type": "application/json", **signed_headers(INGEST_SECRET, method, path, body, now)}


async def test_identical_redelivery_of_an_accepted_article_is_duplicate_with_the_same_id(
    db, api, seeded
) -> None:
    """Finding 6: a portal that lost the first answer re-sends the very same request."""
    body = json.dumps(corpus_articles()[1], ensure_ascii=False).encode()
    headers = signed(body)
    first = await api.post("/api/v1/articles", content=body, headers=headers)
    again = await api.post("/api/v1/articles", content=body, headers=headers)
    assert first.status_code == 202 and again.status_code == 202, again.text
    assert again.json()["article_id"] == first.json()["article_id"]
    assert again.json()["status"] == "duplicate" and again.json()["publications"] == []
    assert again.json()["version"] == first.json()["version"]
    assert await count(db, Publication) == 1


async def test_a_signature_is_consumed_even_when_the_request_is_refused(db, api, seeded) -> None:
    """Finding 6: a POST refused with 422 must not be usable again, on any route."""
    body = b'{"title": "incomplete"}'
    headers = signed(body)
    refused = await api.post("/api/v1/articles", content=body, headers=headers)
    assert refused.status_code == 422
    replay = await api.post("/api/v1/articles", content=body, headers=headers)
    assert replay.status_code == 401 and "replay" in replay.json()["detail"]


async def test_a_post_signature_replayed_as_a_delete_withdraws_nothing(db, api, seeded) -> None:
    """Finding 6, as reported: a refused POST's headers sent as DELETE /api/v1/articles/{id}."""
    article_id = (await post_signed(api, corpus_articles()[1])).json()["article_id"]
    headers = signed(b"")
    assert (await api.post("/api/v1/articles", content=b"", headers=headers)).status_code == 422
    delete = await api.delete(f"/api/v1/articles/{article_id}", headers=headers)
    assert delete.status_code == 401
    fresh = await api.delete(
        f"/api/v1/articles/{article_id}", headers=signed(b"", "DELETE", f"/api/v1/articles/{article_id}")
    )
    assert fresh.status_code == 202
    again = await api.delete(f"/api/v1/articles/{article_id}", headers=fresh.request.headers)
    assert again.status_code == 401 and "replay" in again.json()["detail"]


async def test_used_signatures_older_than_the_tolerance_are_pruned(db, api, seeded) -> None:
    async with db.transaction() as session:
        session.add(WebhookDelivery(signature="sha256=old", received_at=utcnow() - timedelta(hours=1)))
    await post_signed(api, corpus_articles()[1])
    async with db.transaction() as session:
        assert await session.get(WebhookDelivery, "sha256=old") is None
        assert len((await session.exec(select(WebhookDelivery))).all()) == 1


async def test_oversized_body_is_413(db, api, seeded) -> None:
    article = {**corpus_articles()[1], "body_html": "<p>" + "长" * (1024 * 1024) + "</p>"}
    response = await post_signed(api, article)
    assert response.status_code == 413
    assert await count(db, Article) == 0


async def test_malformed_json_is_422(db, api, seeded) -> None:
    response = await post_signed(api, b'{"title": "unterminated')
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"published_at": "yesterday"}, "published_at"),
        ({"title": ""}, "title"),
        ({"url": "not a url"}, "url"),
        ({"published_at": "2024-01-01T10:00:00"}, "published_at"),
    ],
)
async def test_wrong_types_are_422_naming_the_field(db, api, seeded, change, field) -> None:
    response = await post_signed(api, {**corpus_articles()[1], **change})
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["detail"]]
    assert await count(db, Article) == 0


async def test_missing_field_is_422_naming_it(db, api, seeded) -> None:
    article = corpus_articles()[1]
    del article["body_html"]
    response = await post_signed(api, article)
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "body_html"


async def test_unknown_unit_is_422_and_stores_nothing(db, api, seeded) -> None:
    response = await post_signed(api, {**corpus_articles()[1], "unit": "不存在的单位"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "unit"
    assert await count(db, Article) == 0


async def test_same_article_delivered_twice_fans_out_once(db, api, seeded) -> None:
    first = await post_signed(api, corpus_articles()[1])
    again = await post_signed(api, corpus_articles()[1], now=time.time() + 1)  # re-signed by the portal
    assert again.status_code == 202
    assert again.json()["article_id"] == first.json()["article_id"]
    assert again.json()["status"] == "duplicate" and again.json()["publications"] == []
    assert await count(db, Publication) == 1


async def test_older_version_arriving_late_is_recorded_not_applied(db, api, seeded) -> None:
    article = corpus_articles()[1]
    newer = {**article, "title": article["title"] + "(修订)", "updated_at": "2024-03-02T10:00:00+08:00"}
    older = {**article, "updated_at": "2024-03-01T10:00:00+08:00"}
    assert (await post_signed(api, newer)).json()["status"] == "created"
    late = await post_signed(api, older)
    assert late.json()["status"] == "stale" and late.json()["publications"] == []
    async with db.transaction() as session:
        stored = (await session.exec(select(Article))).one()
    assert stored.title.endswith("(修订)") and stored.current_version == 1


async def test_api_needs_a_token_and_the_right_role(db, api, seeded) -> None:
    async with db.transaction() as session:
        await admin.add_user(session, "mod", ["reviewer"], telegram_id=None, scope=None, actor="test")
        await admin.add_user(session, "ed", ["editor"], telegram_id=None, scope=None, actor="test")
        reviewer_token = await admin.issue_token(session, "mod", actor="test")
        editor_token = await admin.issue_token(session, "ed", actor="test")

    assert (await api.get("/api/v1/publications")).status_code == 401
    bad = await api.get("/api/v1/publications", headers={"Authorization": "Bearer syn_nope"})
    assert bad.status_code == 401
    ok = await api.get("/api/v1/publications", headers={"Authorization": f"Bearer {reviewer_token}"})
    assert ok.status_code == 200
    forbidden = await api.post(
        "/api/v1/publications/1/retry", headers={"Authorization": f"Bearer {reviewer_token}"}
    )
    assert forbidden.status_code == 403 and "editor" in forbidden.json()["detail"]
    missing = await api.post(
        "/api/v1/publications/999/retry", headers={"Authorization": f"Bearer {editor_token}"}
    )
    assert missing.status_code == 404

    async with db.transaction() as session:
        await admin.revoke_tokens(session, "mod", actor="test")
        actions = [e.action for e in (await session.exec(select(AuditEvent))).all()]
    revoked = await api.get("/api/v1/publications", headers={"Authorization": f"Bearer {reviewer_token}"})
    assert revoked.status_code == 401
    async with db.transaction() as session:
        refusals = (await session.exec(select(RefusalCount))).all()
    assert actions.count("api.forbidden") == 1 and "api.unauthenticated" not in actions
    assert sum(r.count for r in refusals if r.action == "api.unauthenticated") == 3


async def test_health_reports_database_and_redis(api) -> None:
    response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "schema": "ok", "redis": "ok"}


async def test_metrics_count_publications_by_platform_and_state(db, api, seeded) -> None:
    await post_signed(api, corpus_articles()[1])
    text = (await api.get("/metrics")).text
    assert 'syndicator_publications{platform="app",state="pending"} 1.0' in text


async def test_openapi_documents_the_webhook(api) -> None:
    schema = (await api.get("/openapi.json")).json()
    assert "/api/v1/articles" in schema["paths"]
    assert (await api.get("/docs")).status_code == 200
