"""Silence warned before the veto: accounts going quiet, told to their officers in stages.

The inspection vetoes an account silent for 14 days (单项否决). Officers are warned before: when an
account has gone `silence_warn_days` days (e.g. 7 and 10) without an update, and — county accounts,
which must update every working day — on each working day one misses. Each stage of each silence
is warned once (a `silence_warning` row, unique per account, stage and silence start), as one digest
per stage and chat; the dashboard shows the countdown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import structlog
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import AccountStatus, ChannelAccount, Publication, SilenceWarning, Unit
from syndicator.notify import notify
from syndicator.obligations.clock import SHANGHAI, WorkingDay, shanghai_day_start
from syndicator.obligations.config import ObligationConfig
from syndicator.obligations.reminders import PLATFORM_NAMES, unit_chats

log = structlog.get_logger(__name__)
DIGEST_LINES = 40


class Quiet(BaseModel):
    """An account's current silence at a moment."""

    account_id: int
    account_name: str
    platform: str
    unit_id: int
    unit_name: str
    level: str
    last_update_at: datetime | None
    since: datetime  # the last update, or the account's opening
    days: int  # whole days without an update
    days_left: int  # whole days until the veto (negative: crossed)


async def quiet_accounts(
    session: AsyncSession,
    *,
    now: datetime,
    silent_after: timedelta,
    unit_ids: Sequence[int] | None = None,
    platform: str | None = None,
    min_days: int = 0,
) -> list[Quiet]:
    """Active accounts silent for at least `min_days`, closest to the veto first."""
    last = (
        select(col(Publication.account_id), func.max(Publication.published_at).label("last"))
        .where(col(Publication.published_at) <= now)
        .group_by(col(Publication.account_id))
        .subquery()
    )
    query = (
        select(ChannelAccount, Unit, last.c.last)
        .join(Unit, col(Unit.id) == col(ChannelAccount.unit_id))
        .outerjoin(last, last.c.account_id == col(ChannelAccount.id))
        .where(ChannelAccount.status == AccountStatus.ACTIVE, col(ChannelAccount.created_at) <= now)
    )
    if unit_ids is not None:
        query = query.where(col(ChannelAccount.unit_id).in_(unit_ids))
    if platform:
        query = query.where(ChannelAccount.platform == platform)
    found = []
    for account, unit, last_at in (await session.exec(query)).all():
        since = last_at or account.created_at
        days = (now - since).days
        if days < min_days:
            continue
        found.append(
            Quiet(
                account_id=account.id,
                account_name=account.name,
                platform=account.platform,
                unit_id=unit.id,
                unit_name=unit.name,
                level=unit.level,
                last_update_at=last_at,
                since=since,
                days=days,
                days_left=silent_after.days - days,
            )
        )
    return sorted(found, key=lambda q: (q.days_left, q.unit_name, q.platform))


def due_stage(days: int, stages: Sequence[int]) -> int | None:
    """The highest configured stage a silence of `days` whole days has reached."""
    reached = [s for s in stages if days >= s]
    return max(reached) if reached else None


async def _record(session: AsyncSession, account_id: int, stage: str, since: datetime) -> int | None:
    """Claim a stage for an account's silence; None when it was warned before (by anyone)."""
    seen = await session.exec(
        select(SilenceWarning.id).where(
            SilenceWarning.account_id == account_id,
            SilenceWarning.stage == stage,
            SilenceWarning.since == since,
        )
    )
    if seen.first() is not None:
        return None
    try:
        async with session.begin_nested():
            row = SilenceWarning(account_id=account_id, stage=stage, since=since)
            session.add(row)
    except IntegrityError:  # another worker claimed it first
        return None
    return row.id


async def warn_silence(
    session: AsyncSession, *, now: datetime, config: ObligationConfig, is_working_day: WorkingDay
) -> int:
    """Queue the silence digests due at `now`; returns how many messages were queued."""
    if config.chat_id is None and not config.unit_chats:
        return 0  # nobody to tell: leave the stages unclaimed until a chat is configured
    first = min(config.silence_warn_days, default=None)
    quiet = await quiet_accounts(session, now=now, silent_after=config.silent_after, min_days=first or 0)
    stages: dict[str, list[tuple[int, Quiet]]] = defaultdict(list)
    for q in quiet if first is not None else []:
        day = due_stage(q.days, config.silence_warn_days)
        if day is None:
            continue
        claimed = await _record(session, q.account_id, f"day{day}", q.since)
        for lower in (s for s in config.silence_warn_days if s < day):  # missed earlier stages: done
            await _record(session, q.account_id, f"day{lower}", q.since)
        if claimed is not None:
            stages[f"day{day}"].append((claimed, q))
    if config.county_missed_day_warning:
        for stage, rows in (await _county_misses(session, now, is_working_day)).items():
            stages[stage].extend(rows)
    queued = 0
    chats = await unit_chats(session, config)
    for stage, rows in stages.items():
        first_id = min(r[0] for r in rows)
        accounts = [q for _, q in rows]
        targets: list[tuple[int | None, list[Quiet], str]] = [
            (config.chat_id, accounts, f"silence-digest:{stage}:{first_id}")
        ]
        for unit_chat_id, unit_ids in chats:
            mine = [q for q in accounts if q.unit_id in unit_ids]
            if mine:
                targets.append((unit_chat_id, mine, f"silence-digest:{stage}:{first_id}:chat:{unit_chat_id}"))
        for chat_id, covered, key in targets:
            text = silence_text(stage, covered, veto_days=config.silent_after.days)
            payload = {"stage": stage, "account_ids": [q.account_id for q in covered]}
            queued += await notify(session, key=key, chat_id=chat_id, text=text, payload=payload)
    if queued:
        log.info("silence_digests_queued", count=queued)
    return queued


async def _county_misses(
    session: AsyncSession, now: datetime, is_working_day: WorkingDay
) -> dict[str, list[tuple[int, Quiet]]]:
    """County accounts with no update on the last completed day, when that was a working day."""
    yesterday = now.astimezone(SHANGHAI).date() - timedelta(days=1)
    if not is_working_day(yesterday)[0]:
        return {}
    start, end = shanghai_day_start(yesterday), shanghai_day_start(yesterday + timedelta(days=1))
    updated = set(
        (
            await session.exec(
                select(col(Publication.account_id)).where(
                    col(Publication.published_at) >= start, col(Publication.published_at) < end
                )
            )
        ).all()
    )
    found: dict[str, list[tuple[int, Quiet]]] = {}
    stage = f"workday:{yesterday.isoformat()}"
    for q in await quiet_accounts(session, now=end, silent_after=timedelta(days=14)):
        opened_before = q.last_update_at is not None or q.since < start
        if q.level != "county" or q.account_id in updated or not opened_before:
            continue
        claimed = await _record(session, q.account_id, stage, start)
        if claimed is not None:
            found.setdefault(stage, []).append((claimed, q))
    return found


def silence_text(stage: str, accounts: Sequence[Quiet], *, veto_days: int) -> str:
    """One digest (Chinese): which accounts, how long quiet, how long until the veto."""
    if stage.startswith("workday:"):
        day = date.fromisoformat(stage.removeprefix("workday:"))
        head = (
            f"【更新提醒】以下 {len(accounts)} 个县级账号 {day:%m-%d}（工作日）没有更新，"
            f"县级政务新媒体须每个工作日更新："
        )
    else:
        days = stage.removeprefix("day")
        head = (
            f"【更新提醒】以下 {len(accounts)} 个账号已连续 {days} 天以上未更新，"
            f"连续 {veto_days} 天未更新将被单项否决，请尽快更新："
        )
    lines = [head]
    for n, q in enumerate(accounts):
        if n == DIGEST_LINES:
            lines.append(f"……另有 {len(accounts) - n} 个账号，详见看板未更新倒计时。")
            break
        last = q.last_update_at.astimezone(SHANGHAI).strftime("%m-%d") if q.last_update_at else "从未更新"
        left = f"距单项否决还剩 {q.days_left} 天" if q.days_left > 0 else "已达单项否决标准"
        platform = PLATFORM_NAMES.get(q.platform, q.platform)
        lines.append(
            f"· {q.unit_name}「{q.account_name}」（{platform}）最近更新 {last}，已 {q.days} 天，{left}"
        )
    return "\n".join(lines)
