"""Statutory working days (Asia/Shanghai): chinesecalendar, plus schedules the office adds itself.

chinesecalendar knows the years up to its release (1.11.0: 2004-2026), yet reply due dates from
late December already fall in the next year. The office adds a year's published schedule
(holidays and make-up working days) in a JSON file without waiting for a library release:

    {"2027": {"holidays": ["2027-01-01", ...], "workdays": ["2027-02-07", ...]}}

For a year known to neither, weekends alone decide and the answer is flagged provisional, so
callers show it as such (card, API, log) instead of guessing silently or crashing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import structlog

SHANGHAI = ZoneInfo("Asia/Shanghai")
log = structlog.get_logger(__name__)


def deadline_text(at: datetime) -> str:
    """A deadline as chat messages show it (Asia/Shanghai), never later than the rule: to the
    minute when it falls on one, else to the second (12 hours after 06:24:48 is 18:24:48)."""
    local = at.astimezone(SHANGHAI).replace(microsecond=0)  # dropping the fraction only ever rounds down
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class YearSchedule:
    holidays: frozenset[date]
    workdays: frozenset[date]  # make-up working days (调休上班) that fall on weekends


@dataclass(frozen=True)
class DueDate:
    at: datetime  # UTC; the end of the last working day, Asia/Shanghai
    provisional: bool  # some day counted was in a year with no known schedule


@dataclass
class WorkCalendar:
    extra: dict[int, YearSchedule] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path | None) -> WorkCalendar:
        if path is None:
            return cls()
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls({int(year): _schedule(entry) for year, entry in raw.items()})

    def is_working_day(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, is that answer provisional)."""
        if day.year in self.extra:
            schedule = self.extra[day.year]
            if day in schedule.workdays:
                return True, False
            return day.weekday() < 5 and day not in schedule.holidays, False
        try:
            return bool(chinese_calendar.is_workday(day)), False
        except NotImplementedError:
            return day.weekday() < 5, True

    def add_working_days(self, received: datetime, days: int) -> DueDate:
        """The end of the `days`-th working day after the day something was received."""
        day = received.astimezone(SHANGHAI).date()
        provisional = False
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            working, unsure = self.is_working_day(day)
            provisional = provisional or unsure
            counted += working
        end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)
        if provisional:
            log.warning(
                "due_date_provisional", due=day.isoformat(), reason="no holiday schedule for the year"
            )
        return DueDate(at=end.astimezone(ZoneInfo("UTC")), provisional=provisional)


def _schedule(entry: dict[str, list[str]]) -> YearSchedule:
    return YearSchedule(
        holidays=frozenset(date.fromisoformat(d) for d in entry.get("holidays", [])),
        workdays=frozenset(date.fromisoformat(d) for d in entry.get("workdays", [])),
    )
