"""Pure: card texts and button payloads."""

from __future__ import annotations

from datetime import UTC, datetime

from syndicator.bot.callbacks import CommentAct, CommentCb, QueuePageCb, ReplyAct, ReplyCb
from syndicator.bot.keyboards import comment_keyboard
from syndicator.moderation.cards import CardView, render_card

RECEIVED = datetime(2026, 3, 2, 2, tzinfo=UTC)


def view(**changes: object) -> CardView:
    base = {
        "comment_id": 7,
        "revision": 1,
        "platform": "weibo",
        "account_name": "示范市-微博",
        "article_title": "通知",
        "author": "网友",
        "text": "138****5678",
        "received_at": RECEIVED,
        "state": "pending",
        "findings": [{"rule": "comment.pii_mobile", "severity": "warn", "matched": "138****5678"}],
        "reply_due_at": datetime(2026, 3, 4, 16, tzinfo=UTC),
        "premoderated": False,
    }
    return CardView(**{**base, **changes})  # type: ignore[arg-type]


def test_callback_data_stays_far_below_64_bytes() -> None:
    biggest = 2**52
    packed = [
        CommentCb(action=CommentAct.COMPLEX, comment_id=biggest, revision=10_000).pack(),
        ReplyCb(action=ReplyAct.CANCEL, comment_id=biggest).pack(),
        QueuePageCb(page=10**9).pack(),
    ]
    assert max(len(p.encode()) for p in packed) < 64


def test_a_pending_card_names_channel_findings_deadline_and_platform_limits() -> None:
    text = render_card(view())
    assert "渠道：微博 · 示范市-微博" in text and "⚠️ 手机号码（已屏蔽）：“138****5678”" in text
    assert "回复期限：2026-03-05 00:00 前（2 个工作日）" in text and "状态：⏳ 待审核" in text
    assert "不支持先审后发" in text


def test_a_decided_card_says_who_when_and_what_the_platform_did() -> None:
    text = render_card(
        view(
            state="rejected",
            decided_by="alice",
            decided_at=RECEIVED,
            decision_reason="审核人员拒绝",
            apply_state="failed",
            apply_error="[weibo 20101] target weibo does not exist",
        )
    )
    assert "⛔ 已拒绝 — alice 于 2026-03-02 10:00" in text and "理由：审核人员拒绝" in text
    assert "❗ 平台拒绝执行：[weibo 20101]" in text
    assert comment_keyboard(7, 1, "rejected", complex_=False) is None
