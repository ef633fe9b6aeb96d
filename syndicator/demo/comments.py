"""The demo's moderation step: citizens comment in the app; spam is rejected by the screening, a
moderator approves the rest (scripted here, pressing 通过 in Telegram in real life), and the app
then shows the approved comments publicly."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
from arq import ArqRedis
from rich.console import Console
from rich.table import Table
from sqlmodel import col, select

from syndicator import admin
from syndicator.db import Database
from syndicator.models import ApplyState, ChannelAccount, Comment, CommentState, Publication, utcnow
from syndicator.moderation.polling import poll_soon
from syndicator.moderation.queue import enqueue_apply, enqueue_poll
from syndicator.moderation.service import approve_comment, reject_comment

COMMENTS_FILE = Path(__file__).resolve().parent / "corpus" / "comments" / "citizen-comments.json"
SHOWN_KINDS = ("question", "complaint_with_phone", "gambling_spam", "xss")


async def run_comment_step(
    db: Database, redis: ArqRedis, app_url: str, console: Console, timeout: float
) -> bool:
    account_id, remote_article_id = await _first_app_post(db)
    citizens = [
        c for c in json.loads(COMMENTS_FILE.read_text(encoding="utf-8")) if c["expected_kind"] in SHOWN_KINDS
    ]
    async with httpx.AsyncClient(base_url=app_url, timeout=10) as client:
        for citizen in citizens:
            seed = {
                "article_id": remote_article_id,
                "author": citizen["author"],
                "content": citizen["content"],
                "id": citizen["remote_id"],
            }
            (await client.post("/_emulator/comments", json=seed)).raise_for_status()
        async with db.transaction() as session:  # read now, not at the feed's next turn
            await poll_soon(session, account_id, utcnow())
        await enqueue_poll(redis, account_id)
        comments = await _wait_for(db, lambda cs: len(cs) == len(citizens), timeout)
        reviewer = await _demo_reviewer(db)
        for comment in comments:
            if comment.state == CommentState.PENDING:
                await _decide_as_a_moderator_would(db, redis, comment, reviewer)
        comments = await _wait_for(db, _all_applied, timeout)
        public = (await client.get(f"/v1/articles/{remote_article_id}/comments")).json()["comments"]
    _print(console, comments, {c["id"] for c in public})
    return bool(public)


async def _decide_as_a_moderator_would(
    db: Database, redis: ArqRedis, comment: Comment, reviewer: Any
) -> None:
    """Approve what the screening found harmless; reject what it blocked (here: injected markup)."""
    blocked = any(f.get("severity") == "block" for f in comment.screening)
    async with db.transaction() as session:
        if blocked:
            decision = await reject_comment(
                session, comment.id or 0, reviewer=reviewer, reason="含有脚本代码"
            )
        else:
            decision = await approve_comment(session, comment.id or 0, reviewer=reviewer)
    assert decision.comment is not None
    await enqueue_apply(redis, decision.comment.id or 0, decision.comment.revision, decision.comment.state)


async def _first_app_post(db: Database) -> tuple[int, str]:
    async with db.transaction() as session:
        account, publication = (
            await session.exec(
                select(ChannelAccount, Publication)
                .join(Publication, col(Publication.account_id) == col(ChannelAccount.id))
                .where(ChannelAccount.platform == "app", Publication.state == "published")
                .order_by(col(Publication.id))
            )
        ).first() or (None, None)
    assert account is not None and publication is not None and account.id is not None
    return account.id, publication.remote_id or ""


async def _demo_reviewer(db: Database) -> Any:
    async with db.transaction() as session:
        return await admin.add_user(
            session, "演示审核员", ["reviewer"], telegram_id=None, scope=None, actor="demo"
        )


def _all_applied(comments: list[Comment]) -> bool:
    return all(c.state == CommentState.REJECTED or c.apply_state == ApplyState.APPLIED for c in comments)


async def _wait_for(db: Database, done: Any, timeout: float) -> list[Comment]:
    deadline = time.monotonic() + timeout
    while True:
        async with db.transaction() as session:
            comments = list((await session.exec(select(Comment).order_by(col(Comment.id)))).all())
        if (comments and done(comments)) or time.monotonic() > deadline:
            return comments
        await asyncio.sleep(0.1)


def _print(console: Console, comments: list[Comment], public_ids: set[str]) -> None:
    table = Table(title="Citizen comments on the app: screened, moderated, then shown")
    for column in ("comment (as the moderator sees it)", "screening", "decision", "public in the app"):
        table.add_column(column)
    for comment in comments:
        findings = ", ".join(sorted({f["rule"] for f in comment.screening})) or "-"
        table.add_row(
            _card_text(comment)[:36],
            findings[:30],
            comment.state,
            "yes" if comment.remote_id in public_ids else "no",
        )
    console.print(table)


def _card_text(comment: Comment) -> str:
    masked = comment.extra.get("masked_text") if isinstance(comment.extra, dict) else None
    return str(masked or comment.content)
