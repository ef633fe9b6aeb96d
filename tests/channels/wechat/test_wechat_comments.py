"""Comments (留言) on published articles: list per article from an offset, elect, delete, reply."""

from __future__ import annotations

import pytest

from channels.base import CommentAction, PermanentError


@pytest.fixture
async def published(adapter, make_article, publish_live):
    return await publish_live(adapter, adapter.render(make_article()), "pub-1")


async def read_all(adapter, published, cursor=None):
    """Pages until the cursor stops moving, as the intake does."""
    found = []
    while True:
        page = await adapter.list_article_comments(adapter.comment_target(published), cursor)
        found += [c for c in page.comments if c.remote_id not in {f.remote_id for f in found}]
        if page.cursor == cursor:
            return found, cursor
        cursor = page.cursor


async def test_comments_are_listed_since_the_cursor(adapter, emulator, published):
    msg_data_id = published.details["msg_data_id"]
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "请问何时实施？", "openid": "oA"})
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "支持！", "openid": "oB"})

    comments, cursor = await read_all(adapter, published)

    assert [c.content for c in comments] == ["请问何时实施？", "支持！"]
    first = comments[0]
    assert first.remote_article_id == published.remote_id
    assert first.author == "oA"
    assert first.extra == {"msg_data_id": msg_data_id, "index": "0", "user_comment_id": "1"}
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "第三条"})
    later, _ = await read_all(adapter, published, cursor)
    assert "第三条" in [c.content for c in later]  # with the overlap: earlier ones may come again


async def test_more_comments_than_one_page_are_all_listed(adapter, emulator, published):
    for n in range(60):
        emulator.post("comments", {"msg_data_id": published.details["msg_data_id"], "content": f"留言{n}"})
    comments, _ = await read_all(adapter, published)
    assert len(comments) == 60


async def test_approve_elects_and_only_elected_comments_show(adapter, emulator, published):
    msg_data_id = published.details["msg_data_id"]
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "好政策"})
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "广告"})
    good, spam = (await read_all(adapter, published))[0]

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
    [comment] = (await read_all(adapter, published))[0]
    with pytest.raises(PermanentError):
        await adapter.moderate_comment(comment, CommentAction.REPLY)


async def test_a_withdrawn_article_answers_permanently(adapter, emulator, published):
    emulator.post("comments", {"msg_data_id": published.details["msg_data_id"], "content": "问"})
    await adapter.withdraw(published.remote_id)
    with pytest.raises(PermanentError):  # the intake stops reading it
        await adapter.list_article_comments(adapter.comment_target(published), None)


async def test_a_deleted_comment_shifting_the_offsets_hides_no_new_one(adapter, emulator, published):
    msg_data_id = published.details["msg_data_id"]
    for n in range(30):
        emulator.post("comments", {"msg_data_id": msg_data_id, "content": f"留言{n}"})
    first, cursor = await read_all(adapter, published)
    for comment in first:  # the list shrinks by more than the overlap
        await adapter.moderate_comment(comment, CommentAction.REJECT)
    emulator.post("comments", {"msg_data_id": msg_data_id, "content": "新留言"})
    later, _ = await read_all(adapter, published, cursor)
    assert "新留言" in [c.content for c in later]


async def test_the_next_read_starts_near_the_end(adapter, emulator, published):
    for n in range(120):
        emulator.post("comments", {"msg_data_id": published.details["msg_data_id"], "content": f"留言{n}"})
    _, cursor = await read_all(adapter, published)
    page = await adapter.list_article_comments(adapter.comment_target(published), cursor)
    assert [c.content for c in page.comments] == [f"留言{n}" for n in range(110, 120)]  # not all again


async def test_comment_permission_missing_is_permanent(adapter, emulator, published):
    emulator.inject(emulator.answer("comment/list", 88000, "without comment privilege"))
    with pytest.raises(PermanentError, match="no comment"):
        await adapter.list_article_comments(adapter.comment_target(published), None)
