"""What the officers' dashboard pages show: the filter bar, the page's data, the weekly chart and
the desk's downloads (the routes and the HTML live in syndicator/api/dashboard.py and desk.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import User, utcnow
from syndicator.obligations import live
from syndicator.obligations.clock import SHANGHAI, aware, shanghai
from syndicator.obligations.compliance import ComplianceReport, build_report
from syndicator.obligations.config import from_settings
from syndicator.obligations.export import PLATFORM_NAMES, Sheet, to_csv, to_xlsx
from syndicator.obligations.report import ReportQuery, load_scope, on_time_series
from syndicator.obligations.scope import unit_id_for
from syndicator.obligations.silence import Quiet, quiet_accounts
from syndicator.tabular import XLSX, csv_bytes
from syndicator.workdays import WorkCalendar

CSV = "text/csv; charset=utf-8"


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class PageFilters:
    """The filter bar, as the page, the live clock and the downloads all read it (same query)."""

    NAMES = ("as_of", "unit", "level", "platform", "date_from", "date_to")

    def __init__(
        self,
        as_of: str | None = None,
        unit: str | None = None,
        level: str | None = None,
        platform: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> None:
        self.values = dict(zip(self.NAMES, (as_of, unit, level, platform, date_from, date_to), strict=True))
        self.values = {k: (v or "").strip() for k, v in self.values.items()}

    @property
    def live(self) -> bool:
        """Without an `as_of` the page shows now, and the clock keeps itself current."""
        return not self.values["as_of"]

    def query_string(self, **extra: str) -> str:
        return urlencode({k: v for k, v in {**self.values, **extra}.items() if v})

    async def query(self, session: AsyncSession) -> ReportQuery:
        """Raises ValueError (a bad date) or ScopeError (an unknown unit)."""
        v = self.values
        return ReportQuery(
            as_of=aware(datetime.fromisoformat(v["as_of"]) if v["as_of"] else None),
            unit_id=await unit_id_for(session, v["unit"] or None),
            level=v["level"] or None,
            platform=v["platform"] or None,
            date_from=_day(v["date_from"]),
            date_to=_day(v["date_to"]),
        )


def last_month() -> dict[str, str]:
    """The inspection form's default period: the last complete calendar month (Beijing)."""
    first = utcnow().astimezone(SHANGHAI).date().replace(day=1)
    last = first - timedelta(days=1)
    return {"inspection_from": last.replace(day=1).isoformat(), "inspection_to": last.isoformat()}


@dataclass(frozen=True)
class PageData:
    report: ComplianceReport
    series: list[tuple[datetime, float | None, int]]
    clock: live.Clock
    quiet: list[Quiet]


async def page_data(
    db: Database,
    settings: Settings,
    user: User,
    filters: PageFilters,
    *,
    targets: int = 0,
    overdue: int | None = 100,
    pending: int = live.CLOCK_LIMIT,
) -> PageData:
    """What the page shows for these filters (the downloads ask for every row: larger limits)."""
    config = from_settings(settings)
    async with db.transaction() as session:
        query = await filters.query(session)
        loaded = await load_scope(session, query, user_scope=user.scope_unit_id)
        report = await build_report(
            session,
            query,
            user_scope=user.scope_unit_id,
            loaded=loaded,
            config=config,
            calendar=WorkCalendar.from_file(settings.holiday_schedule_file),
            limit=targets,
            overdue_limit=overdue,
        )
        series = await on_time_series(session, loaded[1])
        board = await live.clock(session, loaded[1], limit=pending)
        quiet = await quiet_accounts(
            session,
            now=query.as_of,
            silent_after=config.silent_after,
            unit_ids=loaded[1].unit_ids,
            platform=query.platform,
            min_days=min(config.silence_warn_days, default=config.silent_after.days),
        )
    return PageData(report, series, board, quiet)


def chart(
    series: list[tuple[datetime, float | None, int]], width: int = 640, height: int = 180
) -> dict[str, Any]:
    """Points of an inline SVG line chart of weekly on-time %: x by week, y 0-100 %."""
    left, top, bottom = 40, 10, 30
    step = (width - left - 10) / max(1, len(series) - 1)
    points = []
    for i, (start, pct, decided) in enumerate(series):
        if pct is None:
            continue
        x = left + i * step
        y = top + (100 - pct) / 100 * (height - top - bottom)
        points.append(
            {
                "x": round(x, 1),
                "y": round(y, 1),
                "pct": pct,
                "decided": decided,
                "label": shanghai(start)[5:10],
            }
        )
    labels = [
        {"x": round(left + i * step, 1), "text": shanghai(s)[5:10]} for i, (s, _, _) in enumerate(series)
    ]
    grid = [{"y": round(top + (100 - p) / 100 * (height - top - bottom), 1), "pct": p} for p in (0, 50, 100)]
    return {
        "width": width,
        "height": height,
        "points": points,
        "labels": labels,
        "grid": grid,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
    }


class Download(StrEnum):
    CLOCK = "clock"
    OVERDUE = Sheet.OVERDUE.value
    UNITS = Sheet.UNITS.value
    ACCOUNTS = Sheet.ACCOUNTS.value
    TARGETS = Sheet.TARGETS.value


def download_file(data: PageData, fmt: str, sheet: Download) -> tuple[bytes, str, str]:
    """What the page shows as a file: one table as CSV, or all as XLSX; (body, media type, name)."""
    clock_sheet = live.clock_table(data.clock, PLATFORM_NAMES)
    if fmt == "xlsx":
        body, media = to_xlsx(data.report, extra=[clock_sheet]), XLSX
    elif sheet == Download.CLOCK:
        body, media = csv_bytes(clock_sheet[1], clock_sheet[2]), CSV
    else:
        body, media = to_csv(data.report, Sheet(sheet.value)), CSV
    stamp = f"{data.report.query.as_of.astimezone(SHANGHAI):%Y%m%d-%H%M}"
    return body, media, f"compliance-{sheet.value if fmt == 'csv' else 'all'}-{stamp}.{fmt}"
