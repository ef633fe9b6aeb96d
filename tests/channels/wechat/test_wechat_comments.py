"""Comments (留言) on published articles: list since a cursor, elect, delete, reply."""

from __future__ import annotations

import pytest

from channels.base import CommentAction, PermanentError


@pytest.fixture
async def published(adapter, make_article, publish_live):
    return await publish_live(adapter, adapter.render(make_article()), "pub-1")


async def test_comments_are_listed_since_the_cursor(adapter, emulator, published):
    msg_data_id = published.details["msg_data_id"]
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "请问何时实施？", "openid": "oA"})
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "支持！", "openid": "oB"})

    page = await adapter.list_comments(None)

    assert [c.content for c in page.comments] == ["请问何时实施？", "支持！"]
    first = page.comments[0]
    assert first.remote_article_id == published.remote_id
    assert first.author == "oA"
    assert first.extra == {"msg_data_id": msg_data_id, "index": "0", "user_comment_id": "1"}
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "第三条"})
    later = await adapter.list_comments(page.cursor)
    assert [c.content for c in later.comments] == ["第三条"]


async def test_more_comments_than_one_page_are_all_listed(adapter, emulator, published):
    for n in range(60):
        emulator.post("comments", {"msg_data_id": published.details["msg_data_id"], "content": f"留言{n}"})
    page = await adapter.list_comments(None)
    assert len(page.comments) == 60


async def test_approve_elects_and_only_elected_comments_show(adapter, emulator, published):
    msg_data_id = published.details["msg_data_id"]
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "好政策"})
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "广告"})
    good, spam = (await adapter.list_comments(None)).comments

    await adapter.moderate_comment(good, CommentAction.APPROVE)
    await adapter.moderate_comment(spam, CommentAction.REJECT)
    await adapter.moderate_comment(good, CommentAction.REPLY, "感谢关注。")

    state = emulator.state()
    assert state["visible_comments"][msg_data_id] == ["好政策"]
    [elected, deleted] = state["comments"][msg_data_id]
    assert elected["reply"]["content"] == "感谢关注。"
    assert deleted["deleted"] is True


async def test_reply_needs_text(adapter, emulator, published):
    emulator.post("comments", {"msg_data_id": published.details["msg_data_id"], "content": "问"})
    [comment] = (await adapter.list_comments(None)).comments
    with pytest.raises(PermanentError):
        await adapter.moderate_comment(comment, CommentAction.REPLY)


async def test_withdrawn_articles_are_no_longer_polled(adapter, emulator, published):
    emulator.post("comments", {"msg_data_id": published.details["msg_data_id"], "content": "问"})
    await adapter.withdraw(published.remote_id)
    assert (await adapter.list_comments(None)).comments == []


async def test_comment_permission_missing_is_permanent(adapter, emulator, published):
    emulator.inject(emulator.answer("comment/list", 88000, "without comment privilege"))
    with pytest.raises(PermanentError, match="no comment"):
        await adapter.list_comments(None)
