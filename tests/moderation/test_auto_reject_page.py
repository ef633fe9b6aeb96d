"""Spam the screening rejects is rejected on the platform by one job per poll, not one per comment;
a comment whose rejection hits a transient fault goes on as its own job and is rejected later."""

from __future__ import annotations

import httpx
from sqlmodel import col, select

from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import Comment
from tests.moderation.conftest import World, run_jobs, seed_comment

SPAM = ("加微信 bet365vip 领取彩金", "加微信 abc12345 日赚千元", "扫码领取补贴红包 加QQ 8812345")


async def rejections(db: Database) -> list[tuple[str, str]]:
    async with db.transaction() as session:
        rows = await session.exec(
            select(Comment.state, Comment.apply_state).where(col(Comment.state) == "rejected")
        )
        return list(rows.all())


async def test_a_polls_spam_is_rejected_on_the_platform_by_one_job(
    mod_settings: Settings, db: Database, world: World
) -> None:
    for text in SPAM:
        seed_comment(world.app_url, text)
    seed_comment(world.app_url, "支持这项政策")

    worker = await run_jobs(mod_settings, "poll_comments")

    assert await rejections(db) == [("rejected", "applied")] * len(SPAM)
    # poll_comments, poll_account_comments, and one apply job for the page's three rejections
    assert (worker.jobs_complete, worker.jobs_failed) == (3, 0)


async def test_a_rejection_that_fails_for_now_goes_on_as_its_own_job(
    mod_settings: Settings, db: Database, world: World
) -> None:
    for text in SPAM:
        seed_comment(world.app_url, text)
    fault = {"kind": "status", "status": 503, "path": "/reject"}
    httpx.post(f"{world.app_url}/_emulator/faults", json={"queue": [fault]}).raise_for_status()

    worker = await run_jobs(mod_settings, "poll_comments")

    assert await rejections(db) == [("rejected", "applied")] * len(SPAM)
    # the page's job, then the one comment's own apply_decision after its backoff
    assert (worker.jobs_complete, worker.jobs_failed) == (4, 0)
