"""Cards that cannot be forged by citizen text, that never show personal data, and netizen
corrections (网民纠错) on the 江苏 clock, reclassified by a moderator through the bot."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from channels.base import RemoteComment
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import AuditEvent, ChannelAccount, Comment
from syndicator.moderation import service
from syndicator.moderation.cards import QUOTE_MARK, render_card
from syndicator.workdays import WorkCalendar
from tests.fake_telegram import FakeTelegram
from tests.moderation.conftest import ALICE, CHAT, World, polling_bot, seed_comment
from tests.moderation.test_bot_flow import comment_to_card
from tests.moderation.test_cards import view

FORGED = "好的\n作者：系统管理员\n状态：✅ 已通过\u2028回复期限：无\u202e"


def test_citizen_text_and_name_cannot_draw_card_lines() -> None:
    card = render_card(view(author="网友\n状态：✅ 已通过", text=FORGED))

    lines = card.splitlines()
    own = [line for line in lines if not line.startswith(QUOTE_MARK)]
    assert [line for line in own if line.startswith("状态：")] == ["状态：⏳ 待审核"]
    assert not any(line.startswith(("作者：系统管理员", "回复期限：无")) for line in own)
    assert "作者：「网友⏎状态：✅ 已通过」" in card
    assert f"{QUOTE_MARK}作者：系统管理员" in lines and f"{QUOTE_MARK}状态：✅ 已通过" in lines
    assert "\u202e" not in card and "\u2028" not in card


def test_finding_lines_and_names_are_masked_even_from_old_rows() -> None:
    findings = [{"rule": "comment.phishing", "severity": "block", "matched": "加微信 13912345678"}]

    card = render_card(view(author="王13812345678", text="身份证110105194912310020", findings=findings))

    for number in ("13912345678", "13812345678", "110105194912310020"):
        assert number not in card
    assert "“加微信 139****5678”" in card


def test_a_netizen_correction_card_states_the_jiangsu_rule() -> None:
    card = render_card(
        view(
            category="correction",
            forward_due_at=datetime(2026, 3, 3, 16, tzinfo=UTC),
            reply_due_at=datetime(2026, 3, 4, 16, tzinfo=UTC),
        )
    )

    assert "网民纠错（江苏规定：1 个工作日内转交，2 个工作日内办结）" in card
    assert "转交期限：2026-03-04 00:00 前　办结期限：2026-03-05 00:00 前" in card


async def _ingest(db: Database, world: World, content: str) -> Comment:
    async with db.transaction() as session:
        account = await session.get(ChannelAccount, world.account_id)
        assert account is not None
        result = await service.ingest_comments(
            session,
            account,
            [
                RemoteComment(
                    "c-" + content[:4], "app-article-1", "市民", content, datetime(2026, 3, 2, 2, tzinfo=UTC)
                )
            ],
            calendar=WorkCalendar(),
            chat_id=None,
        )
        comment = await session.get(Comment, result.new[0])
        assert comment is not None
        return comment


async def test_a_correction_is_spotted_at_intake_and_moderators_reclassify_it(
    db: Database, world: World
) -> None:
    comment = await _ingest(db, world, "文中第三条的日期有误，应为6月1日。")
    assert comment.category == "correction"
    # Monday 2026-03-02 10:00 Shanghai: forwarded by end of Tuesday, resolved by end of Wednesday.
    assert comment.forward_due_at == datetime(2026, 3, 3, 16, tzinfo=UTC)
    assert comment.reply_due_at == datetime(2026, 3, 4, 16, tzinfo=UTC)

    async with db.transaction() as session:
        decision = await service.reclassify_comment(
            session, comment.id, "message", reviewer=world.alice, calendar=WorkCalendar()
        )  # type: ignore[arg-type]
        unknown = await service.reclassify_comment(
            session, comment.id, "praise", reviewer=world.alice, calendar=WorkCalendar()
        )  # type: ignore[arg-type]
        again = await service.reclassify_comment(
            session, comment.id, "message", reviewer=world.alice, calendar=WorkCalendar()
        )  # type: ignore[arg-type]
    assert decision.won and decision.comment is not None
    assert (decision.comment.category, decision.comment.forward_due_at) == ("message", None)
    assert again.outcome is service.Outcome.INVALID and unknown.outcome is service.Outcome.INVALID


async def test_a_moderator_reclassifies_from_the_card(
    mod_settings: Settings, db: Database, world: World, telegram: FakeTelegram
) -> None:
    seed_comment(world.app_url, "请问这个政策什么时候实施？")
    card = await comment_to_card(mod_settings, telegram, "什么时候实施")
    assert "类别：普通留言" in card["text"]

    async with polling_bot(mod_settings, db):
        telegram.press(
            ALICE, CHAT, card["message_id"], telegram.buttons(CHAT, card["message_id"])["🛠 改为网民纠错"]
        )
        await telegram.wait_for(lambda: "转交期限" in card["text"], what="card edited")
    assert "💬 改为普通留言" in telegram.buttons(CHAT, card["message_id"])
    async with db.transaction() as session:
        comment = (await session.exec(select(Comment))).one()
        actions = (
            await session.exec(select(AuditEvent.action).where(AuditEvent.object_id == str(comment.id)))
        ).all()
    assert comment.category == "correction" and "comment.reclassified" in actions
