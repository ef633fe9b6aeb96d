"""The obligation clock: reminders before a deadline and an escalation at it, as digests.

One national item can obligate thousands of accounts, so the chat gets one message per item and
stage (T−4 h, T−1 h, deadline) listing the units still open, not one per target. Officers of a unit
may have their own chat (`SYNDICATOR_OBLIGATION_UNIT_CHATS`): it gets a digest of the targets in
that unit's scope only.

Once means once: each target records the stages done (`reminders_sent`) in the transaction that
queues the digest, rows are claimed with SKIP LOCKED on PostgreSQL (SQLite serialises writers), and
a digest's outbox key names the item, the stage and the first target it covers, so several workers
or a restart never repeat a target.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import audit
from syndicator.models import ChannelAccount, Obligation, ObligationState, Unit, UpstreamItem
from syndicator.notify import notify
from syndicator.obligations.clock import ESCALATION, due_signal
from syndicator.obligations.config import ObligationConfig
from syndicator.obligations.scope import UnknownUnitError, load_tree
from syndicator.workdays import deadline_text

log = structlog.get_logger(__name__)
PLATFORM_NAMES = {"wechat": "微信公众号", "weibo": "微博", "app": "客户端"}
# Telegram allows 4096 characters a message: the digest names this many units, then counts the rest.
DIGEST_UNIT_LINES = 40


@dataclass(frozen=True)
class Due:
    obligation_id: int
    unit_id: int
    unit_name: str
    platform: str


def digest_key(item_id: int, label: str, first_obligation_id: int, chat_id: int | None = None) -> str:
    key = f"obligation-digest:{item_id}:{label}:{first_obligation_id}"
    return key if chat_id is None else f"{key}:chat:{chat_id}"


def digest_text(label: str, *, title: str, doc_number: str | None, deadline: datetime, due: list[Due]) -> str:
    """One message for one item and stage: which units (and on which platforms) are still open."""
    by_unit: dict[str, list[str]] = defaultdict(list)
    for d in due:
        by_unit[d.unit_name].append(PLATFORM_NAMES.get(d.platform, d.platform))
    item = f"《{title}》" + (f"（{doc_number}）" if doc_number else "")
    if label == ESCALATION:
        head = (
            f"【转载超时】{item}已于 {deadline_text(deadline)}（北京时间）截止，"
            f"以下 {len(by_unit)} 个单位 {len(due)} 个账号仍未转载，请督促立即转载并说明情况："
        )
    else:
        hours = label.removesuffix("h") + "小时" if label.endswith("h") else label.removesuffix("m") + "分钟"
        head = (
            f"【转载提醒】{item}距截止还有约{hours}，须在 {deadline_text(deadline)}（北京时间）前完成。"
            f"以下 {len(by_unit)} 个单位 {len(due)} 个账号尚未转载："
        )
    lines = [head]
    for n, (unit, platforms) in enumerate(sorted(by_unit.items())):
        if n == DIGEST_UNIT_LINES:
            rest = list(by_unit.values())[n:]
            lines.append(
                f"……另有 {len(rest)} 个单位 {sum(len(p) for p in rest)} 个账号，详见看板转载倒计时。"
            )
            break
        lines.append(f"· {unit}：{'、'.join(sorted(platforms))}")
    return "\n".join(lines)


async def run_clock(session: AsyncSession, *, now: datetime, config: ObligationConfig) -> int:
    """Queue every reminder and escalation digest due at `now`; returns how many messages were queued."""
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
        .order_by(col(Obligation.deadline_at), col(Obligation.id))
        .with_for_update(of=Obligation, skip_locked=True)
    )
    groups: dict[tuple[int, str], list[Due]] = defaultdict(list)
    items: dict[int, tuple[UpstreamItem, datetime]] = {}
    for obligation, item, unit, account in (await session.exec(query)).all():
        assert obligation.id is not None and item.id is not None and unit.id is not None
        label, done = due_signal(
            now=now,
            deadline_at=obligation.deadline_at,
            offsets=config.reminder_offsets,
            sent=obligation.reminders_sent,
        )
        if label is None:
            continue
        groups[(item.id, label)].append(Due(obligation.id, unit.id, unit.name, account.platform))
        items.setdefault(item.id, (item, obligation.deadline_at))
        _mark(session, obligation, label, done, now)
    queued = 0
    chats = await unit_chats(session, config)
    for (item_id, label), due in groups.items():
        item, deadline = items[item_id]
        first = min(d.obligation_id for d in due)
        digests: list[tuple[int | None, list[Due], str]] = [
            (config.chat_id, due, digest_key(item_id, label, first))
        ]
        for unit_chat_id, unit_ids in chats:
            mine = [d for d in due if d.unit_id in unit_ids]
            if mine:
                digests.append((unit_chat_id, mine, digest_key(item_id, label, first, unit_chat_id)))
        for chat_id, covered, key in digests:
            text = digest_text(
                label, title=item.title, doc_number=item.doc_number, deadline=deadline, due=covered
            )
            payload = {
                "item_id": item_id,
                "signal": label,
                "obligation_ids": [d.obligation_id for d in covered],
            }
            queued += await notify(session, key=key, chat_id=chat_id, text=text, payload=payload)
    if queued:
        log.info("obligation_digests_queued", count=queued, targets=sum(len(d) for d in groups.values()))
    return queued


def _mark(session: AsyncSession, obligation: Obligation, label: str, done: list[str], now: datetime) -> None:
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


async def unit_chats(session: AsyncSession, config: ObligationConfig) -> list[tuple[int, set[int]]]:
    """Each configured unit chat with the unit ids of its scope (the unit and its subordinates)."""
    if not config.unit_chats:
        return []
    tree = await load_tree(session)
    found = []
    for name, chat_id in config.unit_chats:
        try:
            found.append((chat_id, set(tree.descendants(tree.by_name(name).id))))
        except UnknownUnitError:
            log.warning("unit_chat_unknown_unit", unit=name)
    return found
