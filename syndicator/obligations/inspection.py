"""The inspection export: per account and period, the figures provincial inspections ask for.

政府网站与政务新媒体检查指标 and each unit's annual 政务新媒体 work report ask, per account: items
published; important-policy reposts due / on time / late / missed; the longest silence and whether
it crossed the 14-day single-item veto; update frequency against the county (every working day) and
municipal (at least twice a week) rules; citizen comments received / replied / replied on time; and
the findings that held an article before publishing. Every figure carries the ids behind it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.config import Settings
from syndicator.models import (
    Article,
    ArticleVersion,
    ChannelAccount,
    CheckResult,
    Comment,
    Obligation,
    Publication,
    ReviewState,
    Severity,
    UpstreamItem,
    utcnow,
)
from syndicator.obligations.clock import (
    SHANGHAI,
    TargetStatus,
    WorkingDay,
    shanghai_day_start,
    status_at,
)
from syndicator.obligations.config import from_settings
from syndicator.obligations.scope import UnitTree, load_tree, scope_units
from syndicator.workdays import WorkCalendar

HELD_STATES = (ReviewState.HELD, ReviewState.RELEASED, ReviewState.REJECTED)
# Check rules by the inspection's finding categories (rule name prefix → category).
FINDING_CATEGORIES = {
    "wording": "用语规范",
    "secrecy": "涉密标识",
    "spam": "篡改植入",
    "tamper": "篡改植入",
    "sanitize": "篡改植入",
    "pii": "个人信息",
}
OTHER_CATEGORY = "其他"


def category_of(rule: str) -> str:
    return FINDING_CATEGORIES.get(rule.split(".", 1)[0], OTHER_CATEGORY)


class Period(BaseModel):
    date_from: date
    date_to: date
    start: datetime
    end: datetime  # exclusive; never after the moment the export was made

    @classmethod
    def of(cls, date_from: date, date_to: date, *, now: datetime | None = None) -> Period:
        if date_to < date_from:
            raise ValueError("the period ends before it starts (--to is before --from)")
        end = min(shanghai_day_start(date_to + timedelta(days=1)), now or utcnow())
        return cls(date_from=date_from, date_to=date_to, start=shanghai_day_start(date_from), end=end)


class Reposts(BaseModel):
    due: int = 0
    on_time: int = 0
    late: int = 0
    missed: int = 0
    waived: int = 0
    open: int = 0
    obligation_ids: dict[str, list[int]] = Field(default_factory=lambda: defaultdict[str, list[int]](list))


class Silence(BaseModel):
    longest_days: float
    since: datetime
    until: datetime
    crossed_veto: bool


class Frequency(BaseModel):
    working_days: int
    working_days_updated: int
    missed_working_days: list[date]
    weeks: int
    weeks_meeting_minimum: int
    weeks_below_minimum: list[date]  # Mondays
    rule: str  # county | municipal | none
    meets_rule: bool | None


class Comments(BaseModel):
    received: int = 0
    replied: int = 0
    replied_on_time: int = 0
    comment_ids: dict[str, list[int]] = Field(default_factory=lambda: defaultdict[str, list[int]](list))


class Held(BaseModel):
    versions: int = 0
    findings: dict[str, int] = Field(default_factory=dict)  # category → count
    version_ids: list[int] = Field(default_factory=list)
    finding_ids: list[int] = Field(default_factory=list)


class AccountInspection(BaseModel):
    account_id: int
    account_name: str
    platform: str
    unit_id: int
    unit_name: str
    level: str
    published: int
    publication_ids: list[int]
    reposts: Reposts
    silence: Silence
    frequency: Frequency
    comments: Comments
    held: Held


class Inspection(BaseModel):
    period: Period
    scope_unit_name: str | None
    generated_at: datetime
    silent_veto_days: int
    municipal_min_per_week: int
    accounts: list[AccountInspection]
    # Detail rows, for the per-indicator sheets: (account id, row) pairs, each row naming its ids.
    publications: list[dict[str, Any]] = Field(default_factory=list)
    targets: list[dict[str, Any]] = Field(default_factory=list)
    comment_rows: list[dict[str, Any]] = Field(default_factory=list)
    findings: list[dict[str, Any]] = Field(default_factory=list)


async def build_inspection(
    session: AsyncSession,
    period: Period,
    *,
    user_scope: int | None,
    unit_id: int | None,
    is_working_day: WorkingDay,
    silent_after: timedelta = timedelta(days=14),
    municipal_min_per_week: int = 2,
) -> Inspection:
    """Raises ScopeError when `unit_id` is outside `user_scope`."""
    tree = await load_tree(session)
    unit_ids = scope_units(tree, user_scope=user_scope, requested=unit_id)
    anchor = unit_id if unit_id is not None else user_scope
    accounts = await _accounts(session, unit_ids, period)
    ids = [a.id for a in accounts if a.id is not None]
    result = Inspection(
        period=period,
        scope_unit_name=tree.units[anchor].name if anchor is not None else None,
        generated_at=utcnow(),
        silent_veto_days=silent_after.days,
        municipal_min_per_week=municipal_min_per_week,
        accounts=[],
    )
    updates = await _updates(session, ids, period, result)
    before = await _last_before(session, ids, period.start)
    reposts = await _reposts(session, ids, period, result)
    comments = await _comments(session, ids, period, result)
    held = await _held(session, {a.unit_id for a in accounts}, period, result)
    working = cache(is_working_day)
    for account in accounts:
        assert account.id is not None
        unit = tree.units[account.unit_id]
        times = sorted(updates.get(account.id, {}).values())
        result.accounts.append(
            AccountInspection(
                account_id=account.id,
                account_name=account.name,
                platform=account.platform,
                unit_id=unit.id,
                unit_name=unit.name,
                level=unit.level,
                published=len(times),
                publication_ids=sorted(updates.get(account.id, {})),
                reposts=reposts.get(account.id, Reposts()),
                silence=longest_silence(
                    times, before.get(account.id) or account.created_at, period, silent_after
                ),
                frequency=frequency(
                    times, unit.level, account.created_at, period, working, municipal_min_per_week
                ),
                comments=comments.get(account.id, Comments()),
                held=held.get(account.unit_id, Held()),
            )
        )
    result.accounts.sort(key=lambda a: (_tree_order(tree, a.unit_id), a.platform, a.account_name))
    return result


def _tree_order(tree: UnitTree, unit_id: int) -> tuple[int, str]:
    depth, current = 0, tree.units[unit_id].parent_id
    while current is not None and depth <= len(tree.units):
        depth, current = depth + 1, tree.units[current].parent_id
    return depth, tree.units[unit_id].name


async def _accounts(
    session: AsyncSession, unit_ids: list[int] | None, period: Period
) -> list[ChannelAccount]:
    """Accounts open at some point of the period (closed ones still answer for their time)."""
    query = select(ChannelAccount).where(col(ChannelAccount.created_at) < period.end)
    if unit_ids is not None:
        query = query.where(col(ChannelAccount.unit_id).in_(unit_ids))
    return list((await session.exec(query.order_by(col(ChannelAccount.id)))).all())


async def _updates(
    session: AsyncSession, ids: list[int], period: Period, result: Inspection
) -> dict[int, dict[int, datetime]]:
    published = col(Publication.published_at)
    query = (
        # sqlmodel's select() is typed for at most four columns
        select(  # type: ignore[call-overload]
            col(Publication.id), col(Publication.account_id), published, col(Article.title), col(Article.id)
        )
        .join(Article, col(Article.id) == col(Publication.article_id))
        .where(col(Publication.account_id).in_(ids), published >= period.start, published < period.end)
        .order_by(published)
    )
    found: dict[int, dict[int, datetime]] = defaultdict(dict)
    for pub_id, account_id, at, title, article_id in (await session.exec(query)).all():
        found[account_id][pub_id] = at
        result.publications.append(
            {
                "account_id": account_id,
                "publication_id": pub_id,
                "article_id": article_id,
                "title": title,
                "at": at,
            }
        )
    return found


async def _last_before(session: AsyncSession, ids: list[int], start: datetime) -> dict[int, datetime]:
    published = col(Publication.published_at)
    query = (
        select(col(Publication.account_id), func.max(published))
        .where(col(Publication.account_id).in_(ids), published < start)
        .group_by(col(Publication.account_id))
    )
    return {account_id: at for account_id, at in (await session.exec(query)).all() if at is not None}


async def _reposts(
    session: AsyncSession, ids: list[int], period: Period, result: Inspection
) -> dict[int, Reposts]:
    """Targets due in the period and where each stood at its end (late stays late)."""
    query = (
        select(Obligation, UpstreamItem)
        .join(UpstreamItem, col(UpstreamItem.id) == col(Obligation.item_id))
        .where(
            col(Obligation.account_id).in_(ids),
            col(Obligation.deadline_at) >= period.start,
            col(Obligation.deadline_at) < period.end,
        )
        .order_by(col(Obligation.deadline_at), col(Obligation.id))
    )
    found: dict[int, Reposts] = defaultdict(Reposts)
    names = {
        TargetStatus.ON_TIME: "on_time",
        TargetStatus.LATE: "late",
        TargetStatus.OVERDUE: "missed",
        TargetStatus.WAIVED: "waived",
        TargetStatus.OPEN: "open",
    }
    for ob, item in (await session.exec(query)).all():
        assert ob.id is not None  # a stored row has its key
        status = status_at(
            as_of=period.end,
            deadline_at=ob.deadline_at,
            state=ob.state,
            fulfilled_at=ob.fulfilled_at,
            recorded_at=ob.updated_at,
        )
        line = found[ob.account_id]
        line.due += 1
        name = names[status]
        setattr(line, name, getattr(line, name) + 1)
        line.obligation_ids[name].append(ob.id)
        result.targets.append(
            {
                "account_id": ob.account_id,
                "obligation_id": ob.id,
                "item_id": item.id,
                "title": item.title,
                "doc_number": item.doc_number or "",
                "deadline_at": ob.deadline_at,
                "status": name,
                "fulfilled_at": ob.fulfilled_at
                if status in (TargetStatus.ON_TIME, TargetStatus.LATE)
                else None,
                "publication_id": ob.publication_id,
            }
        )
    return found


async def _comments(
    session: AsyncSession, ids: list[int], period: Period, result: Inspection
) -> dict[int, Comments]:
    received = col(Comment.received_at)
    query = (
        select(Comment)
        .where(col(Comment.account_id).in_(ids), received >= period.start, received < period.end)
        .order_by(received, col(Comment.id))
    )
    found: dict[int, Comments] = defaultdict(Comments)
    for comment in (await session.exec(query)).all():
        assert comment.id is not None  # a stored row has its key
        line = found[comment.account_id]
        line.received += 1
        line.comment_ids["received"].append(comment.id)
        replied = comment.replied_at is not None and comment.replied_at < period.end
        on_time = (
            replied
            and comment.replied_at is not None  # as `replied` says; mypy does not narrow through a bool
            and comment.reply_due_at is not None
            and comment.replied_at <= comment.reply_due_at
        )
        if replied:
            line.replied += 1
            line.comment_ids["replied"].append(comment.id)
        if on_time:
            line.replied_on_time += 1
            line.comment_ids["replied_on_time"].append(comment.id)
        result.comment_rows.append(
            {
                "account_id": comment.account_id,
                "comment_id": comment.id,
                "received_at": comment.received_at,
                "reply_due_at": comment.reply_due_at,
                "replied_at": comment.replied_at if replied else None,
                "on_time": on_time,
            }
        )
    return found


async def _held(
    session: AsyncSession, unit_ids: set[int], period: Period, result: Inspection
) -> dict[int, Held]:
    """Versions of the unit's articles that a blocking finding held before publishing."""
    received = col(ArticleVersion.received_at)
    query = (
        select(CheckResult, ArticleVersion, Article)
        .join(ArticleVersion, col(ArticleVersion.id) == col(CheckResult.version_id))
        .join(Article, col(Article.id) == col(ArticleVersion.article_id))
        .where(
            col(Article.unit_id).in_(unit_ids),
            col(ArticleVersion.review_state).in_(HELD_STATES),
            CheckResult.severity == Severity.BLOCK,
            received >= period.start,
            received < period.end,
        )
        .order_by(received, col(CheckResult.id))
    )
    found: dict[int, Held] = defaultdict(Held)
    for finding, version, article in (await session.exec(query)).all():
        assert version.id is not None and finding.id is not None  # stored rows have their keys
        line = found[article.unit_id]
        if version.id not in line.version_ids:
            line.version_ids.append(version.id)
            line.versions += 1
        category = category_of(finding.rule)
        line.findings[category] = line.findings.get(category, 0) + 1
        line.finding_ids.append(finding.id)
        result.findings.append(
            {
                "unit_id": article.unit_id,
                "finding_id": finding.id,
                "version_id": version.id,
                "article_id": article.id,
                "title": article.title,
                "rule": finding.rule,
                "category": category,
                "message": finding.message,
                "matched": finding.matched,
                "review_state": version.review_state,
                "received_at": version.received_at,
            }
        )
    return found


def longest_silence(
    updates: list[datetime], previous: datetime, period: Period, silent_after: timedelta
) -> Silence:
    """The longest gap between updates that overlaps the period, counted from the last update
    before it (or the account's opening) to the period's end."""
    points = [previous, *updates, period.end]
    since, until = max(zip(points, points[1:], strict=False), key=lambda p: p[1] - p[0])
    gap = until - since
    return Silence(
        longest_days=round(gap.total_seconds() / 86400, 1),
        since=since,
        until=until,
        crossed_veto=gap >= silent_after,
    )


def frequency(
    updates: list[datetime],
    level: str,
    opened_at: datetime,
    period: Period,
    is_working_day: WorkingDay,
    min_per_week: int,
) -> Frequency:
    """Completed working days without an update (county rule); natural weeks with fewer than
    `min_per_week` updates (municipal rule). Days before the account opened do not count."""
    updated_days = {u.astimezone(SHANGHAI).date() for u in updates}
    last_day = (period.end - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    first_day = max(period.date_from, opened_at.astimezone(SHANGHAI).date() + timedelta(days=1))
    complete_until = period.end.astimezone(SHANGHAI).date()  # today is not over yet
    days = [
        first_day + timedelta(days=n)
        for n in range((min(last_day, complete_until - timedelta(days=1)) - first_day).days + 1)
    ]
    working = [d for d in days if is_working_day(d)[0]]
    missed = [d for d in working if d not in updated_days]
    monday = first_day + timedelta(days=(7 - first_day.weekday()) % 7)
    weeks, below = 0, []
    while monday + timedelta(days=6) <= last_day and monday + timedelta(days=7) <= complete_until:
        count = sum(
            1 for u in updates if monday <= u.astimezone(SHANGHAI).date() <= monday + timedelta(days=6)
        )
        weeks += 1
        if count < min_per_week:
            below.append(monday)
        monday += timedelta(days=7)
    rule = {"county": "county", "city": "municipal"}.get(level, "none")
    meets = {"county": not missed, "municipal": not below}.get(rule)
    return Frequency(
        working_days=len(working),
        working_days_updated=len(working) - len(missed),
        missed_working_days=missed,
        weeks=weeks,
        weeks_meeting_minimum=weeks - len(below),
        weeks_below_minimum=below,
        rule=rule,
        meets_rule=meets,
    )


async def inspect(
    session: AsyncSession,
    settings: Settings,
    period: Period,
    *,
    unit_id: int | None,
    user_scope: int | None,
) -> Inspection:
    """The inspection with this installation's rules and holiday calendar (API, CLI, dashboard)."""
    config = from_settings(settings)
    return await build_inspection(
        session,
        period,
        user_scope=user_scope,
        unit_id=unit_id,
        is_working_day=WorkCalendar.from_file(settings.holiday_schedule_file).is_working_day,
        silent_after=config.silent_after,
        municipal_min_per_week=config.municipal_min_per_week,
    )
