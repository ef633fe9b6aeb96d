"""Citizen comments: polling with the JSON cursor, rejecting (delete), replying, approving."""

from __future__ import annotations

import pytest
from weibo_support import UID, Emulator, make_article

import channels.weibo.adapter as weibo_adapter
from channels.base import CommentAction, OutcomeUnknownError, RemoteComment
from channels.weibo.adapter import WeiboAdapter


async def published_status(adapter: WeiboAdapter) -> str:
    return (await adapter.publish(adapter.render(make_article()), key="pub:c:1")).remote_id


async def poll_all(adapter: WeiboAdapter, cursor: str | None) -> tuple[list[RemoteComment], str | None]:
    """Poll until a page comes back empty, as the comment poller does."""
    found: list[RemoteComment] = []
    while True:
        page = await adapter.list_comments(cursor)
        cursor = page.cursor
        if not page.comments:
            return found, cursor
        found.extend(page.comments)


async def test_new_comments_are_listed_once(adapter: WeiboAdapter, emulator: Emulator) -> None:
    status_id = await published_status(adapter)
    for text in ("请问何时实施？", "支持！", "建议公开细则"):
        await emulator.seed_comment(status_id, text)
    comments, cursor = await poll_all(adapter, None)
    assert sorted(c.content for c in comments) == sorted(["请问何时实施？", "支持！", "建议公开细则"])
    assert {c.remote_article_id for c in comments} == {status_id}
    assert all(c.author == "市民" and c.created_at.tzinfo is not None for c in comments)
    await emulator.seed_comment(status_id, "新的留言")
    later, _ = await poll_all(adapter, cursor)
    assert [c.content for c in later] == ["新的留言"]


async def test_paging_through_a_burst_loses_and_repeats_nothing(
    adapter: WeiboAdapter, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(weibo_adapter, "COMMENT_PAGE", 2)
    status_id = await published_status(adapter)
    first, cursor = await poll_all(adapter, None)
    assert first == []
    seeded = [(await emulator.seed_comment(status_id, f"留言{n}"))["idstr"] for n in range(5)]
    burst, cursor = await poll_all(adapter, cursor)
    assert sorted(c.remote_id for c in burst) == sorted(seeded)
    assert (await adapter.list_comments(cursor)).comments == []


async def test_reject_deletes_the_comment(adapter: WeiboAdapter, emulator: Emulator) -> None:
    status_id = await published_status(adapter)
    await emulator.seed_comment(status_id, "广告：代办证件")
    (comment,) = (await adapter.list_comments(None)).comments
    await adapter.moderate_comment(comment, CommentAction.REJECT)
    assert (await emulator.state())["comments"] == []
    await adapter.moderate_comment(comment, CommentAction.REJECT)  # already gone: still done


async def test_reply_is_posted_under_the_comment_and_not_polled_back(
    adapter: WeiboAdapter, emulator: Emulator
) -> None:
    status_id = await published_status(adapter)
    await emulator.seed_comment(status_id, "请问何时实施？", author="张先生")
    page = await adapter.list_comments(None)
    (comment,) = page.comments
    await adapter.moderate_comment(comment, CommentAction.REPLY, "自发布之日起实施。")
    replies = [c for c in (await emulator.state())["comments"] if c["user"]["id"] == UID]
    assert [r["text"] for r in replies] == ["回复@张先生:自发布之日起实施。"]
    assert replies[0]["reply_comment"]["idstr"] == comment.remote_id
    assert (await adapter.list_comments(page.cursor)).comments == []


async def test_a_reply_lost_after_sending_is_outcome_unknown(
    adapter: WeiboAdapter, emulator: Emulator
) -> None:
    status_id = await published_status(adapter)
    await emulator.seed_comment(status_id, "请问何时实施？")
    (comment,) = (await adapter.list_comments(None)).comments
    await emulator.faults({"kind": "timeout_after", "path": "/comments/reply"})
    with pytest.raises(OutcomeUnknownError):
        await adapter.moderate_comment(comment, CommentAction.REPLY, "自发布之日起实施。")


async def test_approve_is_a_no_op_because_weibo_comments_are_already_public(
    adapter: WeiboAdapter, emulator: Emulator
) -> None:
    status_id = await published_status(adapter)
    await emulator.seed_comment(status_id, "支持！")
    (comment,) = (await adapter.list_comments(None)).comments
    await adapter.moderate_comment(comment, CommentAction.APPROVE)
    assert [c["text"] for c in (await emulator.state())["comments"]] == ["支持！"]
