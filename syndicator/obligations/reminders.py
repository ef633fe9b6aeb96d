"""The obligation clock: reminders before a deadline and an escalation at it, each sent once.

Once means once: the outbox key (`obligation:{id}:remind:4h`, `obligation:{id}:overdue`) is unique,
rows are claimed with SKIP LOCKED on PostgreSQL (SQLite serialises writers), and `reminders_sent`
records what was done, so several workers or a restart never repeat a message.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import audit
from syndicator.models import ChannelAccount, Obligation, ObligationState, Unit, UpstreamItem
from syndicator.notify import notify
from syndicator.obligations.clock import ESCALATION, due_signal
from syndicator.obligations.config import ObligationConfig
from syndicator.workdays import deadline_text

log = structlog.get_logger(__name__)
PLATFORM_NAMES = {"wechat": "微信公众号", "weibo": "微博", "app": "客户端"}


def notification_key(obligation_id: int, label: str) -> str:
    return (
        f"obligation:{obligation_id}:overdue"
        if label == ESCALATION
        else f"obligation:{obligation_id}:remind:{label}"
    )


def signal_text(label: str, *, unit: str, account: str, platform: str, title: str, deadline: datetime) -> str:
    channel = f"{unit}「{account}」（{PLATFORM_NAMES.get(platform, platform)}）"
    if label == ESCALATION:
        return (
            f"【转载超时】{channel}未在规定时限内转载《{title}》。"
            f"截止时间 {deadline_text(deadline)}（北京时间），请督促立即转载并说明情况。"
        )
    hours = label.removesuffix("h") + "小时" if label.endswith("h") else label.removesuffix("m") + "分钟"
    return (
        f"【转载提醒】{channel}尚未转载《{title}》，距截止还有约{hours}，"
        f"须在 {deadline_text(deadline)}（北京时间）前完成。"
    )


async def run_clock(session: AsyncSession, *, now: datetime, config: ObligationConfig) -> int:
    """Queue every reminder and escalation due at `now`; returns how many messages were queued."""
    horizon = max(config.reminder_offsets, default=None)
    query = (
        select(Obligation, UpstreamItem, Unit, ChannelAccount)
        .join(UpstreamItem, col(UpstreamItem.id) == col(Obligation.item_id))
        .join(Unit, col(Unit.id) == col(Obligation.unit_id))
        .join(ChannelAccount, col(ChannelAccount.id) == col(Obligation.account_id))
        .where(
            Obligation.state == ObligationState.OPEN,
            col(Obligation.deadline_at) <= (now + horizon if horizon else now),
        )
        .order_by(col(Obligation.deadline_at))
        .with_for_update(of=Obligation, skip_locked=True)  # type: ignore[arg-type]
    )
    queued = 0
    for obligation, item, unit, account in (await session.exec(query)).all():
        assert obligation.id is not None
        label, done = due_signal(
            now=now,
            deadline_at=obligation.deadline_at,
            offsets=config.reminder_offsets,
            sent=obligation.reminders_sent,
        )
        if label is None:
            continue
        text = signal_text(
            label,
            unit=unit.name,
            account=account.name,
            platform=account.platform,
            title=item.title,
            deadline=obligation.deadline_at,
        )
        payload = {"obligation_id": obligation.id, "signal": label}
        if await notify(
            session,
            key=notification_key(obligation.id, label),
            chat_id=config.chat_id,
            text=text,
            payload=payload,
        ):
            queued += 1
        obligation.reminders_sent = [*obligation.reminders_sent, *done]
        if label == ESCALATION:
            obligation.state = ObligationState.OVERDUE
            audit.record(
                session,
                actor="clock",
                action="obligation.overdue",
                object_type="obligation",
                object_id=obligation.id,
                deadline=obligation.deadline_at.isoformat(),
            )
        obligation.updated_at = now
        session.add(obligation)
    if queued:
        log.info("obligation_signals_queued", count=queued)
    return queued
