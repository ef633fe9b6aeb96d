"""The 12-hour repost clock and the update-frequency rules: pure functions over plain values.

Times are UTC-aware; Asia/Shanghai appears only in rendering (`shanghai`) and in the working-day
and week arithmetic of the frequency rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
ESCALATION = "overdue"

WorkingDay = Callable[[date], tuple[bool, bool]]  # WorkCalendar.is_working_day


class TargetStatus(StrEnum):
    """Where a target stood at a given moment (reports), derived from timestamps."""

    OPEN = "open"
    ON_TIME = "fulfilled_on_time"
    LATE = "fulfilled_late"
    OVERDUE = "overdue"
    WAIVED = "waived"


def deadline_for(published_at: datetime, window: timedelta) -> datetime:
    """Deadline in UTC: upstream publication + the window (12 h), whatever the hour or date."""
    if published_at.tzinfo is None:
        raise ValueError("published_at must be timezone-aware")
    return (published_at + window).astimezone(UTC)


def is_on_time(fulfilled_at: datetime, deadline_at: datetime) -> bool:
    """Fulfilled exactly at the deadline counts as on time."""
    return fulfilled_at <= deadline_at


def status_at(
    *,
    as_of: datetime,
    deadline_at: datetime,
    state: str,
    fulfilled_at: datetime | None,
    recorded_at: datetime,
) -> TargetStatus:
    """The status known at `as_of`.

    Fulfilment and waiver are terminal and `recorded_at` is when they were recorded: before that
    moment the target was still open (or overdue once its deadline had passed).
    """
    if recorded_at <= as_of:
        if state in (TargetStatus.ON_TIME, TargetStatus.LATE) and fulfilled_at is not None:
            return TargetStatus.ON_TIME if is_on_time(fulfilled_at, deadline_at) else TargetStatus.LATE
        if state == TargetStatus.WAIVED:
            return TargetStatus.WAIVED
    return TargetStatus.OVERDUE if as_of > deadline_at else TargetStatus.OPEN


def offset_label(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def due_signal(
    *, now: datetime, deadline_at: datetime, offsets: Sequence[timedelta], sent: Iterable[str]
) -> tuple[str | None, list[str]]:
    """Which chat signal is due now: (label to send or None, labels to mark as done).

    Past the deadline, the escalation (once). Before it, the most imminent reminder whose time has
    come; earlier reminders that were missed (worker down) are marked done, not sent late.
    """
    done = set(sent)
    if now >= deadline_at:
        if ESCALATION in done:
            return None, []
        return ESCALATION, [ESCALATION, *(offset_label(o) for o in offsets if offset_label(o) not in done)]
    reached = [o for o in offsets if deadline_at - o <= now]
    if not reached:
        return None, []
    nearest = offset_label(min(reached))
    if nearest in done:
        return None, []
    return nearest, [offset_label(o) for o in reached if offset_label(o) not in done]


def aware(value: datetime | None) -> datetime:
    """A time without a zone is Beijing time, as officers write it; None is now."""
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


def shanghai(at: datetime | None) -> str:
    """How officers read a time: Asia/Shanghai, to the minute."""
    return "" if at is None else at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def shanghai_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI).astimezone(UTC)


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (as PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class FrequencyRules:
    silent_after: timedelta = timedelta(days=14)
    municipal_min_per_week: int = 2
    county_lookback_days: int = 7


def frequency_problems(
    *,
    level: str,
    updates: Sequence[datetime],
    opened_at: datetime,
    as_of: datetime,
    rules: FrequencyRules,
    is_working_day: WorkingDay,
) -> list[str]:
    """Officer-facing warnings (Chinese) for one account, from its update times up to `as_of`."""
    seen = sorted(u for u in updates if u <= as_of)
    problems: list[str] = []
    last = seen[-1] if seen else None
    quiet_since = last or opened_at
    if as_of - quiet_since >= rules.silent_after:
        days = (as_of - quiet_since).days
        problems.append(f"已{days}天未更新" if last else f"开通{days}天从未更新")
    if level == "county":
        missed = missed_working_days(seen, opened_at, as_of, rules.county_lookback_days, is_working_day)
        if missed:
            problems.append("工作日未更新：" + "、".join(d.strftime("%m-%d") for d in missed))
    if level == "city":
        start, end = last_full_week(as_of)
        if opened_at <= start:
            count = sum(1 for u in seen if start <= u < end)
            if count < rules.municipal_min_per_week:
                problems.append(f"上周更新{count}次（少于每周{rules.municipal_min_per_week}次）")
    return problems


def missed_working_days(
    updates: Sequence[datetime],
    opened_at: datetime,
    as_of: datetime,
    lookback: int,
    is_working_day: WorkingDay,
) -> list[date]:
    """Completed working days (Asia/Shanghai) in the lookback window without any update."""
    today = as_of.astimezone(SHANGHAI).date()
    updated_days = {u.astimezone(SHANGHAI).date() for u in updates}
    first = opened_at.astimezone(SHANGHAI).date() + timedelta(days=1)  # the opening day is not counted
    missed = []
    for back in range(lookback, 0, -1):
        day = today - timedelta(days=back)
        if day >= first and is_working_day(day)[0] and day not in updated_days:
            missed.append(day)
    return missed


def last_full_week(as_of: datetime) -> tuple[datetime, datetime]:
    """The last complete natural week (Monday to Sunday, Asia/Shanghai) before `as_of`, in UTC."""
    today = as_of.astimezone(SHANGHAI).date()
    this_monday = today - timedelta(days=today.weekday())
    return shanghai_day_start(this_monday - timedelta(days=7)), shanghai_day_start(this_monday)
