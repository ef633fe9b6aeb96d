"""Compliance reports at any moment (`as_of`): targets, per-unit figures, the overdue list.

Status at `as_of` comes from timestamps, not from the stored current state: a target counts from
its `created_at`; a fulfilment or waiver counts from when it was recorded (`updated_at`, final for
those terminal states), and the fulfilment time decides on time (<= deadline) or late.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Float, and_, case, func, not_, or_
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import ChannelAccount, Obligation, ObligationState, Unit, UpstreamItem
from syndicator.obligations.clock import (
    TargetStatus,
    hours_between,
    percentile,
    shanghai_day_start,
    status_at,
)
from syndicator.obligations.scope import UnitTree, load_tree, scope_units

Ob = Obligation  # short alias for the many column references
FULFILLED = (ObligationState.FULFILLED_ON_TIME, ObligationState.FULFILLED_LATE)


class ReportQuery(BaseModel):
    as_of: datetime
    unit_id: int | None = Field(None, description="a unit: the report covers it and its subordinates")
    level: str | None = Field(None, description="only units of this level")
    platform: str | None = Field(None, description="only accounts on this platform")
    date_from: date | None = Field(None, description="deadlines on or after this day (Asia/Shanghai)")
    date_to: date | None = Field(None, description="deadlines on or before this day (Asia/Shanghai)")


class TargetRow(BaseModel):
    obligation_id: int
    item_id: int
    item_title: str
    item_source: str
    item_url: str
    doc_number: str | None
    published_at: datetime
    unit_id: int
    unit_name: str
    account_id: int
    account_name: str
    platform: str
    deadline_at: datetime
    status: TargetStatus
    fulfilled_at: datetime | None = None
    fulfilled_via: str | None = None
    delay_hours: float | None = Field(None, description="hours from upstream publication to the repost")
    evidence_url: str | None = None
    note: str | None = None


class Counts(BaseModel):
    targets: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    open: int = 0
    waived: int = 0

    @property
    def decided(self) -> int:
        return self.on_time + self.late + self.overdue

    def rate(self) -> float | None:
        return round(100 * self.on_time / self.decided, 1) if self.decided else None


class UnitRow(Counts):
    unit_id: int
    unit_name: str
    level: str
    on_time_pct: float | None = Field(None, description="on time / (on time + late + overdue), in %")
    median_delay_hours: float | None = None
    p90_delay_hours: float | None = None


class Totals(Counts):
    on_time_pct: float | None = None


class Scope(BaseModel):
    """What the report covers, resolved against the caller's own scope."""

    query: ReportQuery
    unit_ids: list[int] | None  # None: every unit
    unit_name: str | None = None


def resolve_scope(tree: UnitTree, query: ReportQuery, *, user_scope: int | None) -> Scope:
    ids = scope_units(tree, user_scope=user_scope, requested=query.unit_id)
    if query.level:
        pool = ids if ids is not None else list(tree.units)
        ids = [i for i in pool if tree.units[i].level == query.level]
    anchor = query.unit_id if query.unit_id is not None else user_scope
    return Scope(query=query, unit_ids=ids, unit_name=tree.units[anchor].name if anchor is not None else None)


def conditions(scope: Scope) -> list[ColumnElement[bool]]:
    q = scope.query
    found: list[ColumnElement[bool]] = [col(Ob.created_at) <= q.as_of]
    if scope.unit_ids is not None:
        found.append(col(Ob.unit_id).in_(scope.unit_ids))
    if q.date_from is not None:
        found.append(col(Ob.deadline_at) >= shanghai_day_start(q.date_from))
    if q.date_to is not None:
        found.append(col(Ob.deadline_at) < shanghai_day_start(q.date_to + timedelta(days=1)))
    if q.platform:
        found.append(col(ChannelAccount.platform) == q.platform)
    return found


def status_conditions(as_of: datetime) -> dict[str, ColumnElement[bool]]:
    recorded = col(Ob.updated_at) <= as_of
    fulfilled = and_(col(Ob.state).in_(FULFILLED), recorded)
    waived = and_(col(Ob.state) == ObligationState.WAIVED, recorded)
    pending = not_(or_(fulfilled, waived))
    return {
        "on_time": and_(fulfilled, col(Ob.fulfilled_at) <= col(Ob.deadline_at)),
        "late": and_(fulfilled, col(Ob.fulfilled_at) > col(Ob.deadline_at)),
        "waived": waived,
        "overdue": and_(pending, col(Ob.deadline_at) < as_of),
        "open": and_(pending, col(Ob.deadline_at) >= as_of),
        "fulfilled": fulfilled,
    }


def _counted(status: dict[str, ColumnElement[bool]]) -> list[Any]:
    # count(*) FILTER (WHERE …), not sum(CASE …): half the work per row over a million targets.
    return [func.count().label("targets")] + [
        func.count().filter(status[name]).label(name)
        for name in ("on_time", "late", "overdue", "open", "waived")
    ]


def _delay_percentiles(status: dict[str, ColumnElement[bool]]) -> Any:
    """PostgreSQL: median and p90 delay in hours in one sort per unit, of fulfilled targets only.
    date_part is a float; EXTRACT is a numeric, slow to divide and to sort."""
    hours = func.date_part("epoch", col(Ob.fulfilled_at) - col(UpstreamItem.published_at)) / 3600.0
    fractions = postgresql.array([0.5, 0.9], type_=Float)
    percentiles = func.percentile_cont(fractions, type_=postgresql.ARRAY(Float))
    return percentiles.within_group(hours).filter(status["fulfilled"]).label("delays")


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def summary_statement(scope: Scope, dialect: str) -> Any:
    status = status_conditions(scope.query.as_of)
    columns = [col(Ob.unit_id), *_counted(status)]
    if dialect == "postgresql":
        columns.append(_delay_percentiles(status))
    query = select(*columns).select_from(Ob).join(UpstreamItem, col(UpstreamItem.id) == col(Ob.item_id))
    if scope.query.platform:
        query = query.join(ChannelAccount, col(ChannelAccount.id) == col(Ob.account_id))
    return query.where(*conditions(scope)).group_by(col(Ob.unit_id))


async def unit_rows(session: AsyncSession, scope: Scope, tree: UnitTree) -> list[UnitRow]:
    dialect = _dialect(session)
    rows = (await session.exec(summary_statement(scope, dialect))).all()
    delays = {} if dialect == "postgresql" else await _delays_by_unit(session, scope)
    result = []
    for row in rows:
        unit = tree.units[row.unit_id]
        counts = Counts(
            targets=row.targets,
            on_time=row.on_time or 0,
            late=row.late or 0,
            overdue=row.overdue or 0,
            open=row.open or 0,
            waived=row.waived or 0,
        )
        if dialect == "postgresql":
            median, p90 = row.delays or (None, None)
        else:
            values = delays.get(row.unit_id, [])
            median, p90 = percentile(values, 0.5), percentile(values, 0.9)
        result.append(
            UnitRow(
                **counts.model_dump(),
                unit_id=unit.id,
                unit_name=unit.name,
                level=unit.level,
                on_time_pct=counts.rate(),
                median_delay_hours=_round(median),
                p90_delay_hours=_round(p90),
            )
        )
    return sorted(
        result, key=lambda r: (-r.overdue, r.on_time_pct if r.on_time_pct is not None else 101, r.unit_name)
    )


async def _delays_by_unit(session: AsyncSession, scope: Scope) -> dict[int, list[float]]:
    status = status_conditions(scope.query.as_of)
    query = (
        select(col(Ob.unit_id), col(Ob.fulfilled_at), col(UpstreamItem.published_at))
        .select_from(Ob)
        .join(UpstreamItem, col(UpstreamItem.id) == col(Ob.item_id))
    )
    if scope.query.platform:
        query = query.join(ChannelAccount, col(ChannelAccount.id) == col(Ob.account_id))
    found: dict[int, list[float]] = {}
    for unit_id, fulfilled_at, published_at in (
        await session.exec(query.where(*conditions(scope), status["fulfilled"]))
    ).all():
        assert fulfilled_at is not None  # status['fulfilled'] implies a fulfilment time
        found.setdefault(unit_id, []).append(hours_between(published_at, fulfilled_at))
    return found


def totals(units: list[UnitRow]) -> Totals:
    counts = Counts(**{name: sum(getattr(u, name) for u in units) for name in Counts.model_fields})
    return Totals(**counts.model_dump(), on_time_pct=counts.rate())


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def targets_statement(scope: Scope, *, only_overdue: bool = False) -> Any:
    query = (
        select(Ob, UpstreamItem, Unit, ChannelAccount)
        .join(UpstreamItem, col(UpstreamItem.id) == col(Ob.item_id))
        .join(Unit, col(Unit.id) == col(Ob.unit_id))
        .join(ChannelAccount, col(ChannelAccount.id) == col(Ob.account_id))
        .where(*conditions(scope))
    )
    if only_overdue:
        query = query.where(status_conditions(scope.query.as_of)["overdue"])
    return query.order_by(col(Ob.deadline_at), col(Ob.id))


async def target_rows(
    session: AsyncSession,
    scope: Scope,
    *,
    only_overdue: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[TargetRow]:
    query = targets_statement(scope, only_overdue=only_overdue).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [target_row(scope.query.as_of, *row) for row in (await session.exec(query)).all()]


def target_row(
    as_of: datetime, ob: Obligation, item: UpstreamItem, unit: Unit, account: ChannelAccount
) -> TargetRow:
    status = status_at(
        as_of=as_of,
        deadline_at=ob.deadline_at,
        state=ob.state,
        fulfilled_at=ob.fulfilled_at,
        recorded_at=ob.updated_at,
    )
    fulfilled = status in (TargetStatus.ON_TIME, TargetStatus.LATE)
    decided = fulfilled or status == TargetStatus.WAIVED
    assert ob.id is not None and item.id is not None and unit.id is not None and account.id is not None
    return TargetRow(
        obligation_id=ob.id,
        item_id=item.id,
        item_title=item.title,
        item_source=item.source,
        item_url=item.url,
        doc_number=item.doc_number,
        published_at=item.published_at,
        unit_id=unit.id,
        unit_name=unit.name,
        account_id=account.id,
        account_name=account.name,
        platform=account.platform,
        deadline_at=ob.deadline_at,
        status=status,
        fulfilled_at=ob.fulfilled_at if fulfilled else None,
        fulfilled_via=ob.fulfilled_via if fulfilled else None,
        delay_hours=_round(hours_between(item.published_at, ob.fulfilled_at))
        if fulfilled and ob.fulfilled_at
        else None,
        evidence_url=ob.evidence_url if fulfilled else None,
        note=ob.note if decided else None,
    )


async def count_targets(session: AsyncSession, scope: Scope) -> int:
    query = select(func.count()).select_from(Ob)
    if scope.query.platform:
        query = query.join(ChannelAccount, col(ChannelAccount.id) == col(Ob.account_id))
    return int((await session.exec(query.where(*conditions(scope)))).one())


async def on_time_series(
    session: AsyncSession, scope: Scope, *, weeks: int = 12
) -> list[tuple[datetime, float | None, int]]:
    """On-time % per week of deadlines, for the last `weeks` weeks up to `as_of` (start, %, decided)."""
    as_of = scope.query.as_of
    starts = [as_of - timedelta(weeks=weeks - i) for i in range(weeks)]
    bucket = case(
        *((col(Ob.deadline_at) < start + timedelta(weeks=1), i) for i, start in enumerate(starts)),
        else_=weeks,
    )
    status = status_conditions(as_of)
    query = select(bucket.label("bucket"), *_counted(status)).select_from(Ob)
    if scope.query.platform:
        query = query.join(ChannelAccount, col(ChannelAccount.id) == col(Ob.account_id))
    query = query.where(*conditions(scope), col(Ob.deadline_at) >= starts[0], col(Ob.deadline_at) <= as_of)
    rows = {r.bucket: r for r in (await session.exec(query.group_by("bucket"))).all()}
    series = []
    for i, start in enumerate(starts):
        row = rows.get(i)
        counts = (
            Counts(on_time=row.on_time or 0, late=row.late or 0, overdue=row.overdue or 0)
            if row
            else Counts()
        )
        series.append((start, counts.rate(), counts.decided))
    return series


async def load_scope(
    session: AsyncSession, query: ReportQuery, *, user_scope: int | None
) -> tuple[UnitTree, Scope]:
    tree = await load_tree(session)
    return tree, resolve_scope(tree, query, user_scope=user_scope)
