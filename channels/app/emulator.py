"""A faithful local stand-in for a unit's app backend (the protocol in DESIGN.md is ours to define).

It verifies the push signature, honours `Idempotency-Key` (a repeated key returns the original
answer), keeps articles and comments in memory, shows a comment publicly only once approved, and
records every push so tests can prove exactly-once delivery. Faults come from channels.faults.
"""

from __future__ import annotations

import bisect
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from channels.faults import FaultInjectionMiddleware, FaultInjector, fault_control_router
from channels.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify


@dataclass
class AppBackendState:
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent_answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # One entry per push received: {"key", "created", "article_id"}; the proof of exactly-once.
    push_log: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (seq, comment id) in seq order, for paging the feed without sorting every comment per page;
    # an edit appends a new entry, the old one is skipped (its seq is no longer the comment's).
    _by_seq: list[tuple[int, str]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _comment_seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_article_id(self) -> str:
        return f"app-{next(self._ids)}"

    def add_comment(self, comment_id: str, article_id: str, author: str, content: str) -> dict[str, Any]:
        """A citizen writes (or edits, with the same id) a comment; it waits for moderation."""
        seq = next(self._comment_seq)
        self.comments[comment_id] = {
            "id": comment_id,
            "article_id": article_id,
            "author": author,
            "content": content,
            "created_at": datetime.now(UTC).isoformat(),
            "status": "pending",
            "seq": seq,
        }
        self._by_seq.append((seq, comment_id))
        return self.comments[comment_id]

    def comments_since(self, since: int, limit: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for seq, comment_id in itertools.islice(
            self._by_seq, bisect.bisect_right(self._by_seq, (since, "\uffff")), None
        ):
            if self.comments[comment_id]["seq"] == seq:
                found.append(self.comments[comment_id])
                if len(found) >= limit:
                    break
        return found


class CommentSeed(BaseModel):
    article_id: str
    author: str
    content: str
    id: str | None = None


class ReplyIn(BaseModel):
    content: str


def create_app(secret: str = "app-secret", *, tolerance_seconds: int = 300) -> FastAPI:
    app = FastAPI(title="App backend emulator")
    state = AppBackendState()
    injector = FaultInjector()
    app.state.backend = state
    app.state.faults = injector
    app.add_middleware(FaultInjectionMiddleware, injector=injector)
    app.include_router(fault_control_router(injector))

    async def signed_body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            verify(
                secret,
                request.headers.get(TIMESTAMP_HEADER),
                request.headers.get(SIGNATURE_HEADER),
                request.method,
                request.url.path,
                raw,
                tolerance_seconds=tolerance_seconds,
            )
        except SignatureError as exc:
            raise HTTPException(401, detail=str(exc)) from exc
        return json.loads(raw) if raw else {}

    @app.post("/v1/articles", status_code=201)
    async def push_article(request: Request) -> JSONResponse:
        body = await signed_body(request)
        key = request.headers.get("Idempotency-Key")
        if not key:
            raise HTTPException(400, detail="Idempotency-Key header is required")
        if key in state.idempotent_answers:
            state.push_log.append(
                {"key": key, "created": False, "article_id": state.idempotent_answers[key]["id"]}
            )
            return JSONResponse(state.idempotent_answers[key], status_code=201)
        article_id = state.new_article_id()
        state.articles[article_id] = {**body, "id": article_id, "status": "live", "revision": 1}
        answer = {"id": article_id, "url": f"app://articles/{article_id}"}
        state.idempotent_answers[key] = answer
        state.push_log.append({"key": key, "created": True, "article_id": article_id})
        return JSONResponse(answer, status_code=201)

    @app.put("/v1/articles/{article_id}")
    async def update_article(article_id: str, request: Request) -> dict[str, Any]:
        body = await signed_body(request)
        article = _live(state, article_id)
        article.update(body)
        article["revision"] += 1
        return {"id": article_id, "url": f"app://articles/{article_id}"}

    @app.delete("/v1/articles/{article_id}")
    async def delete_article(article_id: str, request: Request) -> dict[str, str]:
        await signed_body(request)
        _live(state, article_id)["status"] = "deleted"
        return {"id": article_id, "status": "deleted"}

    @app.get("/v1/account")
    async def account(request: Request) -> dict[str, Any]:
        """The signed read `accounts verify` makes: 401 when the caller's secret is wrong."""
        await signed_body(request)
        return {"ok": True, "articles": len(state.articles)}

    @app.get("/v1/articles/{article_id}")
    async def get_article(article_id: str) -> dict[str, Any]:
        if article_id not in state.articles:
            raise HTTPException(404, detail="no such article")
        return state.articles[article_id]

    @app.get("/v1/articles/{article_id}/comments")
    async def public_comments(article_id: str) -> dict[str, Any]:
        """What citizens see in the app: approved comments and official replies only."""
        visible = [
            c for c in state.comments.values() if c["article_id"] == article_id and c["status"] == "approved"
        ]
        return {"comments": visible}

    @app.get("/v1/comments")
    async def list_comments(since: int = 0, limit: int = 100) -> dict[str, Any]:
        newer = state.comments_since(since, limit)
        next_cursor = newer[-1]["seq"] if newer else since
        return {"comments": newer, "next_cursor": str(next_cursor)}

    @app.post("/v1/comments/{comment_id}/{action}")
    async def moderate(comment_id: str, action: str, request: Request) -> dict[str, Any]:
        body = await signed_body(request)
        comment = state.comments.get(comment_id)
        if comment is None:
            raise HTTPException(404, detail="no such comment")
        if action == "approve":
            comment["status"] = "approved"
        elif action == "reject":
            comment["status"] = "rejected"
        elif action == "reply":
            comment.setdefault("replies", []).append(ReplyIn.model_validate(body).content)
        else:
            raise HTTPException(404, detail=f"unknown action {action!r}")
        return comment

    @app.post("/_emulator/comments", include_in_schema=False)
    async def seed_comment(seed: CommentSeed) -> dict[str, Any]:
        """A citizen writes (or edits, with the same id) a comment; it waits for moderation."""
        comment_id = seed.id or f"c-{len(state.comments) + 1}"
        return state.add_comment(comment_id, seed.article_id, seed.author, seed.content)

    @app.get("/_emulator/state", include_in_schema=False)
    async def dump_state() -> dict[str, Any]:
        return {
            "articles": state.articles,
            "push_log": state.push_log,
            "created": sum(1 for p in state.push_log if p["created"]),
        }

    return app


def _live(state: AppBackendState, article_id: str) -> dict[str, Any]:
    article = state.articles.get(article_id)
    if article is None or article["status"] == "deleted":
        raise HTTPException(404, detail="no such article")
    return article
