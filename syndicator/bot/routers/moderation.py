"""Comment cards: 通过 / 拒绝 / 标记复杂, and the 回复 conversation (type, preview, send)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, ForceReply, Message
from arq import ArqRedis
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.bot.callbacks import CommentAct, CommentCb, ReplyAct, ReplyCb
from syndicator.bot.keyboards import comment_keyboard, reply_preview_keyboard
from syndicator.bot.middlewares import AfterCommit
from syndicator.models import Comment, CommentCategory, CommentState, User
from syndicator.moderation import service
from syndicator.moderation.cards import STATE_LABELS, local_time, render_card
from syndicator.moderation.queue import enqueue_apply
from syndicator.workdays import WorkCalendar

DONE = {
    CommentAct.APPROVE: "已通过，正在发布到平台",
    CommentAct.REJECT: "已拒绝",
    CommentAct.COMPLEX: "已标记为复杂：回复期限延长至 10 个工作日",
    CommentAct.TO_CORRECTION: "已改为网民纠错：1 个工作日内转交，2 个工作日内办结",
    CommentAct.TO_MESSAGE: "已改为普通留言：2 个工作日内答复",
}
CATEGORY_OF = {
    CommentAct.TO_CORRECTION: CommentCategory.CORRECTION,
    CommentAct.TO_MESSAGE: CommentCategory.MESSAGE,
}


class ReplyForm(StatesGroup):
    text = State()
    confirm = State()


async def cancel(message: Message, state: FSMContext, after_commit: AfterCommit) -> None:
    await state.clear()
    after_commit.add(message.reply, "已取消。")


async def decide(
    query: CallbackQuery,
    callback_data: CommentCb,
    session: AsyncSession,
    reviewer: User,
    after_commit: AfterCommit,
    bot: Bot,
    arq: ArqRedis | None,
) -> None:
    decide_with = (
        service.approve_comment if callback_data.action is CommentAct.APPROVE else service.reject_comment
    )
    decision = await decide_with(
        session, callback_data.comment_id, reviewer=reviewer, revision=callback_data.revision
    )
    await present(query, session, decision, after_commit, bot, arq, done=DONE[callback_data.action])


async def complex_(
    query: CallbackQuery,
    callback_data: CommentCb,
    session: AsyncSession,
    reviewer: User,
    after_commit: AfterCommit,
    bot: Bot,
    calendar: WorkCalendar,
) -> None:
    decision = await service.mark_complex(
        session,
        callback_data.comment_id,
        reviewer=reviewer,
        calendar=calendar,
        revision=callback_data.revision,
    )
    await present(query, session, decision, after_commit, bot, None, done=DONE[CommentAct.COMPLEX])


async def reclassify(
    query: CallbackQuery,
    callback_data: CommentCb,
    session: AsyncSession,
    reviewer: User,
    after_commit: AfterCommit,
    bot: Bot,
    calendar: WorkCalendar,
) -> None:
    decision = await service.reclassify_comment(
        session,
        callback_data.comment_id,
        CATEGORY_OF[callback_data.action],
        reviewer=reviewer,
        calendar=calendar,
        revision=callback_data.revision,
    )
    await present(query, session, decision, after_commit, bot, None, done=DONE[callback_data.action])


async def start_reply(
    query: CallbackQuery,
    callback_data: CommentCb,
    session: AsyncSession,
    state: FSMContext,
    after_commit: AfterCommit,
    bot: Bot,
) -> None:
    comment = await session.get(Comment, callback_data.comment_id)
    if comment is None or comment.revision != callback_data.revision:
        after_commit.add(query.answer, "评论已被修改，请处理新卡片", show_alert=True)
        return
    if comment.state not in (CommentState.PENDING, CommentState.APPROVED):
        after_commit.add(
            query.answer,
            f"该评论{STATE_LABELS.get(comment.state, comment.state)}，不能再回复",
            show_alert=True,
        )
        return
    await state.set_state(ReplyForm.text)
    await state.set_data({"comment_id": comment.id, "revision": comment.revision})
    after_commit.add(query.answer)
    if query.message is not None:
        after_commit.add(
            bot.send_message,
            chat_id=query.message.chat.id,
            text=f"{_mention(query)}请输入对评论 #{comment.id}（{comment.author}）的回复，"
            "直接回复本消息即可；/cancel 取消。",
            reply_markup=_force_reply(query),
        )


async def reply_text(message: Message, state: FSMContext, after_commit: AfterCommit) -> None:
    text = (message.text or "").strip()
    if not text or len(text) > service.MAX_REPLY_CHARS:
        after_commit.add(message.reply, f"回复不能为空，且不超过 {service.MAX_REPLY_CHARS} 字，请重新输入：")
        return
    data = await state.update_data(text=text)
    await state.set_state(ReplyForm.confirm)
    after_commit.add(
        message.answer,
        f"回复预览（评论 #{data['comment_id']}）：\n\n{text}\n\n确认发送？",
        reply_markup=reply_preview_keyboard(int(data["comment_id"])),
    )


async def send_reply(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    reviewer: User,
    after_commit: AfterCommit,
    bot: Bot,
    arq: ArqRedis | None,
) -> None:
    data = await state.get_data()
    await state.clear()
    decision = await service.reply_to_comment(
        session, int(data["comment_id"]), str(data["text"]), reviewer=reviewer, revision=int(data["revision"])
    )
    if query.message is not None and decision.won:
        after_commit.add(
            bot.edit_message_text,
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            text=f"✅ 回复已提交：\n\n{data['text']}",
        )
    await present(query, session, decision, after_commit, bot, arq, done="回复已提交，正在发布到平台")


async def edit_reply(query: CallbackQuery, state: FSMContext, after_commit: AfterCommit, bot: Bot) -> None:
    await state.set_state(ReplyForm.text)
    after_commit.add(query.answer)
    if query.message is not None:
        after_commit.add(
            bot.send_message,
            chat_id=query.message.chat.id,
            text=f"{_mention(query)}请重新输入回复：",
            reply_markup=_force_reply(query),
        )


async def cancel_reply(query: CallbackQuery, state: FSMContext, after_commit: AfterCommit, bot: Bot) -> None:
    await state.clear()
    after_commit.add(query.answer, "已取消回复")
    if query.message is not None:
        after_commit.add(
            bot.edit_message_text,
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            text="已取消回复。",
        )


async def stale_preview(query: CallbackQuery, after_commit: AfterCommit) -> None:
    after_commit.add(query.answer, "此预览已失效（只有发起回复的审核人员可以操作）", show_alert=True)


def _mention(query: CallbackQuery) -> str:
    return f"@{query.from_user.username} " if query.from_user.username else ""


def _force_reply(query: CallbackQuery) -> ForceReply:
    """In a group, the reply field opens for the mentioned moderator only (when they have a username)."""
    return ForceReply(selective=bool(query.from_user.username), input_field_placeholder="官方回复内容")


async def present(
    query: CallbackQuery,
    session: AsyncSession,
    decision: service.Decision,
    after_commit: AfterCommit,
    bot: Bot,
    arq: ArqRedis | None,
    *,
    done: str,
) -> None:
    """Answer the press and show the comment as it now stands on its card."""
    comment = decision.comment
    if comment is None or decision.outcome in (service.Outcome.NOT_FOUND, service.Outcome.INVALID):
        after_commit.add(query.answer, decision.message or "找不到该评论", show_alert=True)
        return
    if decision.outcome is service.Outcome.STALE:
        after_commit.add(query.answer, decision.message, show_alert=True)
        return
    assert comment.id is not None
    if decision.won and comment.apply_state == "pending":
        after_commit.add(enqueue_apply, arq, comment.id, comment.revision, comment.state)
    if decision.won:
        after_commit.add(query.answer, done)
    else:
        who = decision.decider.name if decision.decider else "系统"
        when = local_time(comment.decided_at) if comment.decided_at else ""
        label = STATE_LABELS.get(comment.state, comment.state)
        after_commit.add(query.answer, f"该评论已由 {who} 于 {when} 处理（{label}）", show_alert=True)
    text = render_card(await service.card_view(session, comment))
    keyboard = comment_keyboard(
        comment.id, comment.revision, comment.state, complex_=comment.complex, category=comment.category
    )
    chat_id = comment.card_chat_id or (query.message.chat.id if query.message else None)
    message_id = comment.card_message_id or (query.message.message_id if query.message else None)
    if chat_id is not None and message_id is not None:
        after_commit.add(
            bot.edit_message_text, chat_id=chat_id, message_id=message_id, text=text, reply_markup=keyboard
        )


def build_router() -> Router:
    """A fresh Router per Dispatcher (aiogram attaches a router to one parent only)."""
    router = Router(name=__name__)
    router.message.register(cancel, Command("cancel"), StateFilter("*"))
    router.callback_query.register(
        decide, CommentCb.filter(F.action.in_({CommentAct.APPROVE, CommentAct.REJECT}))
    )
    router.callback_query.register(complex_, CommentCb.filter(F.action == CommentAct.COMPLEX))
    router.callback_query.register(
        reclassify, CommentCb.filter(F.action.in_({CommentAct.TO_CORRECTION, CommentAct.TO_MESSAGE}))
    )
    router.callback_query.register(start_reply, CommentCb.filter(F.action == CommentAct.REPLY))
    router.message.register(reply_text, ReplyForm.text, F.text, ~F.text.startswith("/"))
    router.callback_query.register(send_reply, ReplyCb.filter(F.action == ReplyAct.SEND), ReplyForm.confirm)
    router.callback_query.register(edit_reply, ReplyCb.filter(F.action == ReplyAct.EDIT), ReplyForm.confirm)
    router.callback_query.register(
        cancel_reply, ReplyCb.filter(F.action == ReplyAct.CANCEL), ReplyForm.confirm
    )
    router.callback_query.register(stale_preview, ReplyCb.filter())
    return router
