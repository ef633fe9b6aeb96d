"""The app backend pushes comments (signed with the account's secret); dedupe and edits apply."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select

from channels.signing import signed_headers
from syndicator.api.app import create_app
from syndicator.api.comments import router
from syndicator.background_server import BackgroundServer
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import Comment, Notification, RefusalCount
from tests.conftest import APP_SECRET
from tests.moderation.conftest import ACCOUNT, ARTICLE_TITLE, World


@pytest.fixture
def api_url(mod_settings: Settings) -> Iterator[str]:
    app = create_app(mod_settings)
    app.include_router(router)
    with BackgroundServer(app) as server:
        yield server.url


PUSH = "/api/v1/channels/app/comments"


def push(url: str, comments: list[dict[str, str]], *, secret: str = APP_SECRET) -> httpx.Response:
    body = json.dumps({"account": ACCOUNT, "comments": comments}, ensure_ascii=False).encode()
    return push_raw(url, body, secret=secret)


def push_raw(url: str, body: bytes, *, secret: str = APP_SECRET, headers: dict[str, str] | None = None):
    headers = headers or {"Content-Type": "application/json", **signed_headers(secret, "POST", PUSH, body)}
    return httpx.post(f"{url}{PUSH}", content=body, headers=headers)


def comment(remote_id: str, content: str) -> dict[str, str]:
    return {"id": remote_id, "article_id": "app-article-1", "author": "市民", "content": content}


async def test_pushed_comments_are_stored_once_and_edits_re_enter_moderation(
    api_url: str, db: Database, world: World
) -> None:
    first = push(api_url, [comment("p1", "第一条"), comment("p2", "第二条")])
    assert first.status_code == 202, first.text
    assert len(first.json()["new"]) == 2
    again = push(api_url, [comment("p1", "第一条"), comment("p2", "第二条（已修改）")])
    assert again.json() | {"new": [], "unchanged": 1} == again.json() and len(again.json()["revised"]) == 1
    async with db.transaction() as session:
        rows = (await session.exec(select(Comment).order_by(Comment.remote_id))).all()
        cards = (await session.exec(select(Notification.key))).all()
    assert [(c.remote_id, c.revision, c.state) for c in rows] == [("p1", 1, "pending"), ("p2", 2, "pending")]
    assert rows[0].extra["article_title"] == ARTICLE_TITLE
    assert sorted(cards) == sorted(
        [f"comment-card:{rows[0].id}:1", f"comment-card:{rows[1].id}:1", f"comment-card:{rows[1].id}:2"]
    )


async def test_a_push_with_a_bad_signature_is_refused_and_counted(
    api_url: str, db: Database, world: World
) -> None:
    response = push(api_url, [comment("p9", "伪造")], secret="wrong")
    assert response.status_code == 401
    async with db.transaction() as session:
        assert (await session.exec(select(Comment))).all() == []
        refused = (
            await session.exec(select(RefusalCount).where(RefusalCount.action == "comments.push_rejected"))
        ).all()
    assert sum(r.count for r in refused) == 1


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"account": 5}'])
async def test_empty_or_invalid_bodies_are_4xx_signed_or_not(
    api_url: str, db: Database, world: World, body: bytes
) -> None:
    """Finding 10: an empty or invalid body was parsed before the signature check, and was a 500."""
    unsigned = push_raw(api_url, body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401, unsigned.text
    assert push_raw(api_url, body).status_code == 422


async def test_a_replayed_push_is_refused(api_url: str, db: Database, world: World) -> None:
    """Finding 10: the comments push had no replay store."""
    body = json.dumps({"account": ACCOUNT, "comments": [comment("p1", "一")]}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **signed_headers(APP_SECRET, "POST", PUSH, body)}
    assert push_raw(api_url, body, headers=headers).status_code == 202
    replay = push_raw(api_url, body, headers=headers)
    assert replay.status_code == 401 and "replay" in replay.json()["detail"]


async def test_nul_characters_are_refused_at_the_edge_naming_the_field(
    api_url: str, db: Database, world: World
) -> None:
    """Finding 10: PostgreSQL rejects NUL later (a 500); the edge answers 422 naming the field."""
    response = push(api_url, [comment("p1", "正常"), comment("p2", "含\x00空字符")])
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "comments.1.content"
    async with db.transaction() as session:
        assert (await session.exec(select(Comment))).all() == []


async def test_a_push_must_name_the_account_whose_secret_signed_it(
    api_url: str, db: Database, world: World
) -> None:
    body = json.dumps({"account": "another-account", "comments": [comment("p1", "一")]}).encode()
    assert push_raw(api_url, body).status_code == 403
