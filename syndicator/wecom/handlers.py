"""What the WeCom front end does with a member's button press or text message.

Presses decide through the moderation core (syndicator.moderation.service), so a press in WeCom
and one in Telegram at the same moment still make one decision: the core's conditional UPDATE picks
the winner and the other is told who decided. Every card then redraws from the outbox (the core
queues a card update with each decision). Only members mapped to a user with the needed role
(`syndicator users add … --wecom-user ID`) act; anyone else is refused and audited.

回复 starts a conversation kept in Redis (like the Telegram bot's FSM): the member's next text
message to the application is the reply; 取消 cancels it. Text commands answer passively (in the
callback's response): 队列, 统计, 合规 (officers), 帮助.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from arq import ArqRedis
from redis.exceptions import RedisError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.wecom.callback import CardPress, Inbound, TextMessage
from syndicator import audit
from syndicator.db import Database
from syndicator.models import Comment, CommentState, User, utcnow
from syndicator.moderation import service
from syndicator.moderation.cards import STATE_LABELS, local_time, refusal_text, render_queue, render_stats
from syndicator.moderation.queries import daily_stats, pending_page
from syndicator.moderation.queue import enqueue_apply
from syndicator.obligations.compliance import compliance_summary
from syndicator.wecom.cards import ButtonKey, CardAct
from syndicator.wecom.delivery import remember_code
from syndicator.workdays import WorkCalendar

log = structlog.get_logger(__name__)

REVIEWERS = frozenset({"reviewer"})
OFFICERS = frozenset({"officer", "admin"})
CONVERSATION_KEY = "syn:wecom:reply:{user}"
CONVERSATION_TTL_SECONDS = 24 * 3600  # a reply left half-typed is forgotten after a day
CANCEL_WORDS = frozenset({"取消", "/cancel"})
HELP_TEXT = """🤖 政务新媒体评论审核（企业微信）

每条新评论以卡片形式发给审核人员，点击卡片按钮处理：
• 通过 — 评论在平台上公开显示
• 拒绝 — 评论不予显示（微博等平台将删除）
• 回复 — 随后发送的一条文字即为官方回复（同时视为通过）；发送“取消”放弃
• 标记复杂 — 回复期限由 2 个工作日延长至 10 个工作日

文字命令：
队列 — 待审核评论
统计 — 今日统计与超期未回复
合规 — 转载时限合规情况（督查人员）
取消 — 取消正在输入的回复
帮助 — 显示本说明

每项操作均记录审核人与时间。仅登记了企业微信账号的审核人员可以操作。"""
DONE = {
    CardAct.APPROVE: "已通过，正在发布到平台",
    CardAct.REJECT: "已拒绝",
    CardAct.COMPLEX: "已标记为复杂：回复期限延长至 10 个工作日",
}


@dataclass(frozen=True)
class Answer:
    """`passive` goes back in the callback's response (text messages only, within WeCom's 5 s);
    `direct` is sent to the member afterwards (a button press cannot be answered with text)."""

    passive: str | None = None
    direct: str | None = None


@dataclass
class Context:
    db: Database
    redis: ArqRedis | None
    calendar: WorkCalendar


Command = Callable[[AsyncSession, User], Awaitable[str]]


async def handle(inbound: Inbound, ctx: Context) -> Answer:
    if isinstance(inbound, CardPress):
        return await on_press(inbound, ctx)
    if isinstance(inbound, TextMessage):
        return await on_text(inbound, ctx)
    return Answer()  # entering the app, other events and media: nothing to do


async def on_press(press: CardPress, ctx: Context) -> Answer:
    key = ButtonKey.unpack(press.key)
    async with ctx.db.transaction() as session:
        user = await member(session, press.user, REVIEWERS)
        if user is None:
            refuse(session, press.user, f"press:{press.key}"[:100], REVIEWERS)
            return Answer(direct=refusal_text(REVIEWERS))
        if key is None:
            return Answer(direct="无法识别的按钮，请使用最新的评论卡片。")
        if press.response_code:
            await remember_code(session, key.comment_id, key.revision, press.response_code)
        if key.act is CardAct.REPLY:
            return await start_reply(session, ctx, press.user, key)
        decision = await decide(session, key, user, ctx.calendar)
    if decision.won and decision.comment is not None and decision.comment.apply_state == "pending":
        comment = decision.comment
        assert comment.id is not None
        await enqueue_apply(ctx.redis, comment.id, comment.revision, comment.state)
    return Answer(direct=None if decision.won else lost_text(decision))


async def decide(
    session: AsyncSession, key: ButtonKey, user: User, calendar: WorkCalendar
) -> service.Decision:
    if key.act is CardAct.COMPLEX:
        return await service.mark_complex(
            session, key.comment_id, reviewer=user, calendar=calendar, revision=key.revision
        )
    decide_with = service.approve_comment if key.act is CardAct.APPROVE else service.reject_comment
    return await decide_with(session, key.comment_id, reviewer=user, revision=key.revision)


def lost_text(decision: service.Decision) -> str:
    comment = decision.comment
    if comment is None or decision.outcome in (service.Outcome.NOT_FOUND, service.Outcome.INVALID):
        return decision.message or "找不到该评论"
    if decision.outcome is service.Outcome.STALE:
        return decision.message
    who = decision.decider.name if decision.decider else "系统"
    when = local_time(comment.decided_at) if comment.decided_at else ""
    return f"评论 #{comment.id} 已由 {who} 于 {when} 处理（{STATE_LABELS.get(comment.state, comment.state)}）"


async def start_reply(session: AsyncSession, ctx: Context, wecom_user: str, key: ButtonKey) -> Answer:
    comment = await session.get(Comment, key.comment_id)
    if comment is None or comment.revision != key.revision:
        return Answer(direct="评论已被修改，请处理新卡片")
    if comment.state not in (CommentState.PENDING, CommentState.APPROVED):
        return Answer(direct=f"该评论{STATE_LABELS.get(comment.state, comment.state)}，不能再回复")
    if not await Conversations(ctx.redis).start(wecom_user, key.comment_id, key.revision):
        return Answer(direct="暂时无法开始回复（会话存储不可用），请稍后再试。")
    return Answer(
        direct=f"请输入对评论 #{comment.id}（{comment.author}）的回复：直接发送文字即可，发送“取消”放弃。"
    )


async def on_text(message: TextMessage, ctx: Context) -> Answer:
    text = message.content.strip()
    command, roles = COMMANDS.get(text, (None, REVIEWERS))
    conversations = Conversations(ctx.redis)
    async with ctx.db.transaction() as session:
        user = await member(session, message.user, roles)
        if user is None:
            refuse(session, message.user, f"text:{text[:60]}", roles)
            return Answer(passive=f"{refusal_text(roles)}\n（您的企业微信账号：{message.user}）")
        if text in CANCEL_WORDS:
            await conversations.clear(message.user)
            return Answer(passive="已取消。")
        if command is not None:
            return Answer(passive=await command(session, user))
        pending = await conversations.get(message.user)
        if pending is None:
            return Answer(passive="发送“帮助”查看可用命令；处理评论请点击评论卡片上的按钮。")
        decision = await service.reply_to_comment(
            session, int(pending["comment_id"]), text, reviewer=user, revision=int(pending["revision"])
        )
    if decision.outcome is service.Outcome.INVALID:
        return Answer(passive=f"{decision.message}，请重新输入，或发送“取消”放弃。")
    await conversations.clear(message.user)
    if not decision.won:
        return Answer(passive=lost_text(decision))
    comment = decision.comment
    assert comment is not None and comment.id is not None
    await enqueue_apply(ctx.redis, comment.id, comment.revision, comment.state)
    return Answer(passive=f"✅ 对评论 #{comment.id} 的回复已提交，正在发布到平台：\n\n{text}")


async def queue(session: AsyncSession, _: User) -> str:
    entries, pages, total = await pending_page(session, 0)
    return render_queue(entries, page=0, pages=pages, total=total)


async def stats(session: AsyncSession, _: User) -> str:
    return render_stats(await daily_stats(session))


async def compliance(session: AsyncSession, user: User) -> str:
    return await compliance_summary(session, as_of=utcnow(), scope_unit_id=user.scope_unit_id)


async def help_(_: AsyncSession, __: User) -> str:
    return HELP_TEXT


COMMANDS: dict[str, tuple[Command, frozenset[str]]] = {
    "队列": (queue, REVIEWERS),
    "/queue": (queue, REVIEWERS),
    "统计": (stats, REVIEWERS),
    "/stats": (stats, REVIEWERS),
    "合规": (compliance, OFFICERS),
    "/compliance": (compliance, OFFICERS),
    "帮助": (help_, REVIEWERS),
    "/help": (help_, REVIEWERS),
}


async def member(session: AsyncSession, wecom_user: str, roles: frozenset[str]) -> User | None:
    user = (await session.exec(select(User).where(User.wecom_user == wecom_user))).first()
    if user is None or not user.active or not user.role_set & roles:
        return None
    return user


def refuse(session: AsyncSession, wecom_user: str, what: str, roles: frozenset[str]) -> None:
    audit.record(
        session,
        actor=f"wecom:{wecom_user}",
        action="wecom.refused",
        object_type="wecom_callback",
        object_id=what,
        source="wecom",
        needs=sorted(roles),
    )
    log.warning("wecom_refused_user", wecom_user=wecom_user, what=what, needs=sorted(roles))


class Conversations:
    """Who is typing a reply to which comment revision, per WeCom member (Redis, with a TTL)."""

    def __init__(self, redis: ArqRedis | None) -> None:
        self._redis = redis

    async def start(self, user: str, comment_id: int, revision: int) -> bool:
        value = json.dumps({"comment_id": comment_id, "revision": revision})
        try:
            return self._redis is not None and bool(
                await self._redis.set(self._key(user), value, ex=CONVERSATION_TTL_SECONDS)
            )
        except (RedisError, OSError) as exc:
            log.warning("wecom_conversation_store_failed", error=str(exc))
            return False

    async def get(self, user: str) -> dict[str, Any] | None:
        try:
            raw = await self._redis.get(self._key(user)) if self._redis is not None else None
        except (RedisError, OSError) as exc:
            log.warning("wecom_conversation_store_failed", error=str(exc))
            return None
        return json.loads(raw) if raw else None

    async def clear(self, user: str) -> None:
        try:
            if self._redis is not None:
                await self._redis.delete(self._key(user))
        except (RedisError, OSError) as exc:
            log.warning("wecom_conversation_store_failed", error=str(exc))

    @staticmethod
    def _key(user: str) -> str:
        return CONVERSATION_KEY.format(user=user)
