"""Update-frequency monitoring per account, from its publications up to `as_of`.

County accounts: every statutory working day; municipal (city) accounts: at least twice in the last
natural week; any account: silent for 14 days or more (怀化 rules; national 政务新媒体 indicators).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from functools import cache

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import AccountStatus, ChannelAccount, Publication
from syndicator.obligations.clock import FrequencyRules, WorkingDay, frequency_problems
from syndicator.obligations.report import Scope
from syndicator.obligations.scope import UnitTree


class AccountActivity(BaseModel):
    account_id: int
    account_name: str
    platform: str
    unit_id: int
    unit_name: str
    level: str
    last_update_at: datetime | None
    problems: list[str]


async def account_activity(
    session: AsyncSession,
    scope: Scope,
    tree: UnitTree,
    *,
    rules: FrequencyRules,
    is_working_day: WorkingDay,
    only_problems: bool = True,
) -> list[AccountActivity]:
    as_of = scope.query.as_of
    query = select(ChannelAccount).where(
        ChannelAccount.status == AccountStatus.ACTIVE, col(ChannelAccount.created_at) <= as_of
    )
    if scope.query.platform:
        query = query.where(ChannelAccount.platform == scope.query.platform)
    if scope.unit_ids is not None:
        query = query.where(col(ChannelAccount.unit_id).in_(scope.unit_ids))
    accounts = list((await session.exec(query)).all())
    is_working_day = cache(is_working_day)  # the same few days for every account
    if not accounts:
        return []
    ids = [a.id for a in accounts if a.id is not None]
    window_start = as_of - max(rules.silent_after, timedelta(days=rules.county_lookback_days + 8))
    recent: dict[int, list[datetime]] = defaultdict(list)
    published = col(Publication.published_at)
    for account_id, at in (
        await session.exec(
            select(col(Publication.account_id), published).where(
                col(Publication.account_id).in_(ids), published > window_start, published <= as_of
            )
        )
    ).all():
        assert at is not None  # the window's bounds exclude NULL
        recent[account_id].append(at)
    last = dict(
        (
            await session.exec(
                select(col(Publication.account_id), func.max(published))
                .where(col(Publication.account_id).in_(ids), published <= as_of)
                .group_by(col(Publication.account_id))
            )
        ).all()
    )
    found = []
    for account in accounts:
        assert account.id is not None
        unit = tree.units[account.unit_id]
        updates = recent.get(account.id) or ([latest] if (latest := last.get(account.id)) else [])
        problems = frequency_problems(
            level=unit.level,
            updates=updates,
            opened_at=account.created_at,
            as_of=as_of,
            rules=rules,
            is_working_day=is_working_day,
        )
        if problems or not only_problems:
            found.append(
                AccountActivity(
                    account_id=account.id,
                    account_name=account.name,
                    platform=account.platform,
                    unit_id=unit.id,
                    unit_name=unit.name,
                    level=unit.level,
                    last_update_at=last.get(account.id),
                    problems=problems,
                )
            )
    return sorted(found, key=lambda a: (a.last_update_at is not None, a.last_update_at or as_of, a.unit_name))
