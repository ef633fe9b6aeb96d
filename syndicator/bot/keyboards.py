"""Inline keyboards: the buttons of a comment card, the reply preview and the /queue pager."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from syndicator.bot.callbacks import CommentAct, CommentCb, QueuePageCb, ReplyAct, ReplyCb

_LABELS = {
    CommentAct.APPROVE: "✅ 通过",
    CommentAct.REJECT: "⛔ 拒绝",
    CommentAct.REPLY: "💬 回复",
    CommentAct.COMPLEX: "🧩 标记复杂",
    CommentAct.TO_CORRECTION: "🛠 改为网民纠错",
    CommentAct.TO_MESSAGE: "💬 改为普通留言",
}


def _button(act: CommentAct, comment_id: int, revision: int) -> InlineKeyboardButton:
    data = CommentCb(action=act, comment_id=comment_id, revision=revision).pack()
    return InlineKeyboardButton(text=_LABELS[act], callback_data=data)


def comment_keyboard(
    comment_id: int, revision: int, state: str, *, complex_: bool, category: str = "message"
) -> InlineKeyboardMarkup | None:
    """Pending: all buttons. Approved: reply and reclassify still possible. Decided for good: none."""
    rows: list[list[InlineKeyboardButton]] = []
    if state == "pending":
        rows.append(
            [
                _button(CommentAct.APPROVE, comment_id, revision),
                _button(CommentAct.REJECT, comment_id, revision),
            ]
        )
    if state in ("pending", "approved"):
        second = [_button(CommentAct.REPLY, comment_id, revision)]
        if not complex_:
            second.append(_button(CommentAct.COMPLEX, comment_id, revision))
        rows.append(second)
        flip = CommentAct.TO_MESSAGE if category == "correction" else CommentAct.TO_CORRECTION
        rows.append([_button(flip, comment_id, revision)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def reply_preview_keyboard(comment_id: int) -> InlineKeyboardMarkup:
    def button(text: str, act: ReplyAct) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=text, callback_data=ReplyCb(action=act, comment_id=comment_id).pack()
        )

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button("📤 发送", ReplyAct.SEND),
                button("✏️ 修改", ReplyAct.EDIT),
                button("取消", ReplyAct.CANCEL),
            ]
        ]
    )


def queue_keyboard(page: int, pages: int) -> InlineKeyboardMarkup | None:
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton(text="⬅️ 上一页", callback_data=QueuePageCb(page=page - 1).pack()))
    if page + 1 < pages:
        buttons.append(InlineKeyboardButton(text="下一页 ➡️", callback_data=QueuePageCb(page=page + 1).pack()))
    return InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None
