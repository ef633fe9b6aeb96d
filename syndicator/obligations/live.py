"""The live repost clock and its drill-down (unit → account → item), for the officers' desk.

Every pending target (open or overdue at `as_of`) with its deadline and time left, most urgent
first, in bands an officer reads at a glance: over 4 h, 4–1 h, under 1 h, overdue.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, case, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import AuditEvent, ChannelAccount, Obligation
from syndicator.obligations.clock import TargetStatus
from syndicator.obligations.report import (
    Counts,
    ReportQuery,
    Scope,
    TargetRow,
    conditions,
    status_conditions,
    target_row,
    targets_statement,
)
from syndicator.obligations.scope import UnitTree

CLOCK_LIMIT = 500
Ob = Obligation


class Band(StrEnum):
    CALM = "calm"  # more than 4 hours left
    SOON = "soon"  # 4 to 1 hours
    URGENT = "urgent"  # under an hour
    OVERDUE = "overdue"


BAND_NAMES = {Band.CALM: "4小时以上", Band.SOON: "1–4小时", Band.URGENT: "不足1小时", Band.OVERDUE: "已超时"}


def band_for(left: timedelta) -> Band:
    if left < timedelta(0):
        return Band.OVERDUE
    if left < timedelta(hours=1):
        return Band.URGENT
    if left <= timedelta(hours=4):
        return Band.SOON
    return Band.CALM


def time_left_text(left: timedelta) -> str:
    """剩余 3小时05分 / 超时 1小时20分, to the minute."""
    minutes = int(abs(left).total_seconds() // 60)
    text = f"{minutes // 60}小时{minutes % 60:02d}分" if minutes >= 60 else f"{minutes}分钟"
    return ("超时 " if left < timedelta(0) else "剩余 ") + text


class ClockRow(BaseModel):
    target: TargetRow
    seconds_left: int
    band: Band
    time_left: str


class Clock(BaseModel):
    as_of: datetime
    total: int
    bands: dict[str, int]
    rows: list[ClockRow]


def clock_row(as_of: datetime, target: TargetRow) -> ClockRow:
    left = target.deadline_at - as_of
    return ClockRow(
        target=target,
        seconds_left=int(left.total_seconds()),
        band=band_for(left),
        time_left=time_left_text(left),
    )


CLOCK_SHEET = "转载倒计时"
CLOCK_HEADER = [
    "剩余时间",
    "时段",
    "截止时间",
    "单位",
    "账号",
    "平台",
    "上级信息",
    "文号",
    "原文链接",
    "任务编号",
]


def clock_table(board: Clock, platform_names: dict[str, str]) -> tuple[str, list[str], list[list[object]]]:
    """The clock as the page shows it, for CSV / XLSX downloads."""
    rows: list[list[object]] = [
        [
            r.time_left,
            BAND_NAMES[r.band],
            r.target.deadline_at,
            r.target.unit_name,
            r.target.account_name,
            platform_names.get(r.target.platform, r.target.platform),
            r.target.item_title,
            r.target.doc_number or "",
            r.target.item_url,
            r.target.obligation_id,
        ]
        for r in board.rows
    ]
    return CLOCK_SHEET, CLOCK_HEADER, rows


def pending_statement(scope: Scope) -> Any:
    status = status_conditions(scope.query.as_of)
    return targets_statement(scope).where(or_(status["open"], status["overdue"]))


async def clock(session: AsyncSession, scope: Scope, *, limit: int = CLOCK_LIMIT) -> Clock:
    """Pending targets, earliest deadline (most urgent) first; band counts cover all of them."""
    as_of = scope.query.as_of
    rows = [
        clock_row(as_of, target_row(as_of, *row))
        for row in (await session.exec(pending_statement(scope).limit(limit))).all()
    ]
    bands = await _band_counts(session, scope)
    return Clock(as_of=as_of, total=sum(bands.values()), bands=bands, rows=rows)


async def _band_counts(session: AsyncSession, scope: Scope) -> dict[str, int]:
    """Pending targets per band, counted in the database (band_for's boundaries, as SQL)."""
    as_of = scope.query.as_of
    status = status_conditions(as_of)
    deadline = col(Ob.deadline_at)
    band = case(
        (deadline < as_of, Band.OVERDUE.value),
        (deadline < as_of + timedelta(hours=1), Band.URGENT.value),
        (deadline <= as_of + timedelta(hours=4), Band.SOON.value),
        else_=Band.CALM.value,
    )
    query = select(band.label("band"), func.count().label("n")).select_from(Ob)
    if scope.query.platform:
        query = query.join(ChannelAccount, col(ChannelAccount.id) == col(Ob.account_id))
    query = query.where(*conditions(scope), or_(status["open"], status["overdue"])).group_by("band")
    counts = {b.value: 0 for b in Band}
    for band_value, n in (await session.exec(query)).all():
        counts[band_value] = n
    return counts


STATUS_FIELDS = {
    "fulfilled_on_time": "on_time",
    "fulfilled_late": "late",
    "overdue": "overdue",
    "open": "open",
    "waived": "waived",
}


class AccountLine(Counts):
    account_id: int
    account_name: str
    platform: str
    status: str


class UnitDetail(BaseModel):
    unit_id: int
    unit_name: str
    level: str
    parent: tuple[int, str] | None
    children: list[tuple[int, str]]
    accounts: list[AccountLine]
    clock: Clock


def _unit_scope(tree: UnitTree, unit_id: int, as_of: datetime) -> Scope:
    return Scope(query=ReportQuery(as_of=as_of), unit_ids=[unit_id], unit_name=tree.units[unit_id].name)


async def unit_detail(session: AsyncSession, tree: UnitTree, unit_id: int, as_of: datetime) -> UnitDetail:
    """One unit: its accounts with their figures, its pending targets, links up and down the tree."""
    info = tree.units[unit_id]
    scope = _unit_scope(tree, unit_id, as_of)
    lines: dict[int, Counts] = defaultdict(Counts)
    for row in (await session.exec(targets_statement(scope))).all():  # a unit's own targets only
        target = target_row(as_of, *row)
        counts = lines[target.account_id]
        counts.targets += 1
        name = STATUS_FIELDS[target.status.value]
        setattr(counts, name, getattr(counts, name) + 1)
    accounts = (
        await session.exec(
            select(ChannelAccount).where(ChannelAccount.unit_id == unit_id).order_by(col(ChannelAccount.id))
        )
    ).all()
    parent = tree.units.get(info.parent_id) if info.parent_id is not None else None
    return UnitDetail(
        unit_id=unit_id,
        unit_name=info.name,
        level=info.level,
        parent=(parent.id, parent.name) if parent else None,
        children=sorted(
            ((c, tree.units[c].name) for c in tree.children.get(unit_id, [])), key=lambda c: c[1]
        ),
        accounts=[
            AccountLine(
                **lines[a.id].model_dump(),
                account_id=a.id,
                account_name=a.name,
                platform=a.platform,
                status=a.status,
            )
            for a in accounts
            if a.id is not None
        ],
        clock=await clock(session, scope),
    )


class AccountDetail(BaseModel):
    account_id: int
    account_name: str
    platform: str
    unit_id: int
    unit_name: str
    targets: list[ClockRow]


async def account_detail(
    session: AsyncSession, tree: UnitTree, account: ChannelAccount, as_of: datetime, *, limit: int = 200
) -> AccountDetail:
    """Every target of one account, pending ones first (most urgent first), then the latest decided."""
    assert account.id is not None
    scope = _unit_scope(tree, account.unit_id, as_of)
    query = targets_statement(scope).where(Ob.account_id == account.id).limit(limit)
    rows = [clock_row(as_of, target_row(as_of, *row)) for row in (await session.exec(query)).all()]
    pending = [r for r in rows if r.target.status in (TargetStatus.OPEN, TargetStatus.OVERDUE)]
    decided = [r for r in rows if r not in pending]
    decided.sort(key=lambda r: r.target.deadline_at, reverse=True)
    return AccountDetail(
        account_id=account.id,
        account_name=account.name,
        platform=account.platform,
        unit_id=account.unit_id,
        unit_name=tree.units[account.unit_id].name,
        targets=pending + decided,
    )


class HistoryLine(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class TargetDetail(BaseModel):
    row: ClockRow
    reminders_sent: list[str]
    publication_id: int | None
    history: list[HistoryLine]


async def target_detail(
    session: AsyncSession, tree: UnitTree, obligation: Obligation, as_of: datetime
) -> TargetDetail:
    """One target: its item, status and time left, evidence, and every recorded step (audit trail)."""
    scope = _unit_scope(tree, obligation.unit_id, as_of)
    row = (await session.exec(targets_statement(scope).where(Ob.id == obligation.id))).one()
    events = (
        await session.exec(
            select(AuditEvent)
            .where(
                or_(
                    and_(
                        col(AuditEvent.object_type) == "obligation",
                        col(AuditEvent.object_id) == str(obligation.id),
                    ),
                    and_(  # the item's arrival opened this target (audited once per item)
                        col(AuditEvent.object_type) == "upstream_item",
                        col(AuditEvent.object_id) == str(obligation.item_id),
                        col(AuditEvent.action) == "obligation.opened",
                    ),
                )
            )
            .order_by(col(AuditEvent.at), col(AuditEvent.id))
        )
    ).all()
    return TargetDetail(
        row=clock_row(as_of, target_row(as_of, *row)),
        reminders_sent=[str(r) for r in obligation.reminders_sent],
        publication_id=obligation.publication_id,
        history=[HistoryLine(at=e.at, actor=e.actor, action=e.action, detail=e.detail) for e in events],
    )
