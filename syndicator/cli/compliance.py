"""`syndicator compliance report|inspection`: the compliance report (table, CSV, XLSX, JSON) and the
inspection export."""

from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from syndicator.config import get_settings
from syndicator.db import open_database
from syndicator.obligations.clock import aware, shanghai
from syndicator.obligations.compliance import ComplianceReport, build_report
from syndicator.obligations.config import from_settings
from syndicator.obligations.export import STATUS_NAMES, Sheet, to_csv, to_xlsx
from syndicator.obligations.inspection import Inspection, Period, inspect
from syndicator.obligations.inspection_export import inspection_file
from syndicator.obligations.report import ReportQuery
from syndicator.obligations.scope import ScopeError, unit_id_for
from syndicator.workdays import WorkCalendar

compliance_app = typer.Typer(help="Repost obligations and compliance reports.", no_args_is_help=True)
MOMENT_FORMATS = [
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
]


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


def _load(
    as_of: datetime,
    unit: str | None,
    level: str | None,
    platform: str | None,
    date_from: date | None,
    date_to: date | None,
) -> ComplianceReport:
    settings = get_settings()

    async def run() -> ComplianceReport:
        database = open_database(settings.database_url)
        try:
            async with database.transaction() as session:
                query = ReportQuery(
                    as_of=as_of,
                    unit_id=await unit_id_for(session, unit),
                    level=level,
                    platform=platform,
                    date_from=date_from,
                    date_to=date_to,
                )
                return await build_report(
                    session,
                    query,
                    user_scope=None,
                    config=from_settings(settings),
                    calendar=WorkCalendar.from_file(settings.holiday_schedule_file),
                    limit=None,
                )
        finally:
            await database.dispose()

    return asyncio.run(run())


@compliance_app.command("report")
def report(
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of", formats=MOMENT_FORMATS, help="moment reported on; default now, no zone = Asia/Shanghai"
        ),
    ] = None,
    unit: Annotated[str | None, typer.Option(help="unit name or id: it and its subordinates")] = None,
    level: Annotated[str | None, typer.Option(help="only units of this level")] = None,
    platform: Annotated[str | None, typer.Option(help="wechat|weibo|app")] = None,
    date_from: Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"])] = None,
    date_to: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"])] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.TABLE,
    sheet: Annotated[Sheet, typer.Option(help="which table for --format csv")] = Sheet.TARGETS,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (xlsx needs one)")
    ] = None,
) -> None:
    """Per-unit on-time figures, the overdue list and silent accounts at a moment."""
    try:
        data = _load(
            aware(as_of),
            unit,
            level,
            platform,
            date_from.date() if date_from else None,
            date_to.date() if date_to else None,
        )
    except ScopeError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    if fmt is Format.XLSX:
        if output is None:
            typer.secho("error: --format xlsx needs --output FILE.xlsx", err=True, fg=typer.colors.RED)
            raise typer.Exit(1)
        output.write_bytes(to_xlsx(data))
        typer.echo(f"wrote {output}")
        return
    text: bytes = {
        Format.CSV: lambda: to_csv(data, sheet),
        Format.JSON: lambda: data.model_dump_json(indent=2).encode(),
        Format.TABLE: lambda: table(data).encode(),
    }[fmt]()
    if output is not None:
        output.write_bytes(text)
        typer.echo(f"wrote {output}")
    else:
        sys.stdout.buffer.write(text if fmt is not Format.CSV else text.removeprefix(b"\xef\xbb\xbf"))
        sys.stdout.flush()


def _pad(value: object, width: int) -> str:
    text = "-" if value is None else str(value)
    wide = sum(1 for ch in text if ord(ch) > 0x2E7F)  # CJK characters take two columns
    return text + " " * max(0, width - len(text) - wide)


def table(data: ComplianceReport) -> str:
    t = data.totals
    lines = [
        f"as of {shanghai(data.query.as_of)} (Asia/Shanghai), scope: {data.scope_unit_name or 'all units'}",
        f"targets {t.targets}  on time {t.on_time}  late {t.late}  overdue {t.overdue}  "
        f"open {t.open}  waived {t.waived}  on-time {t.on_time_pct if t.on_time_pct is not None else '-'}%",
        "",
    ]
    head = [
        "unit",
        "level",
        "targets",
        "on_time",
        "late",
        "overdue",
        "open",
        "waived",
        "on_time_%",
        "median_h",
        "p90_h",
    ]
    widths = [24, 10, 8, 8, 6, 8, 6, 7, 10, 9, 7]
    lines.append("".join(_pad(h, w) for h, w in zip(head, widths, strict=True)))
    for u in data.units:
        values = [
            u.unit_name,
            u.level,
            u.targets,
            u.on_time,
            u.late,
            u.overdue,
            u.open,
            u.waived,
            u.on_time_pct,
            u.median_delay_hours,
            u.p90_delay_hours,
        ]
        lines.append("".join(_pad(v, w) for v, w in zip(values, widths, strict=True)))
    lines += ["", f"overdue ({t.overdue}):"]
    lines += [
        f"  #{r.obligation_id} {r.unit_name} {r.account_name} ({r.platform}) 《{r.item_title}》 "
        f"due {shanghai(r.deadline_at)} {STATUS_NAMES[r.status]}"
        for r in data.overdue
    ] or ["  (none)"]
    lines += ["", f"update-frequency warnings ({len(data.activity)}):"]
    lines += [
        f"  {a.unit_name} {a.account_name} ({a.platform}): {'；'.join(a.problems)}" for a in data.activity
    ] or ["  (none)"]
    return "\n".join(lines) + "\n"


class InspectionFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"
    JSON = "json"


@compliance_app.command("inspection")
def inspection(
    date_from: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="first day")],
    date_to: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="last day, inclusive")],
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write")],
    unit: Annotated[str | None, typer.Option(help="unit name or id: it and its subordinates")] = None,
    fmt: Annotated[InspectionFormat, typer.Option("--format")] = InspectionFormat.XLSX,
) -> None:
    """The inspection export per account and period (政务新媒体检查指标), one sheet per indicator."""
    settings = get_settings()

    async def run() -> Inspection:
        database = open_database(settings.database_url)
        try:
            async with database.transaction() as session:
                return await inspect(
                    session,
                    settings,
                    Period.of(date_from.date(), date_to.date()),
                    unit_id=await unit_id_for(session, unit),
                    user_scope=None,
                )
        finally:
            await database.dispose()

    try:
        data = asyncio.run(run())
    except (ScopeError, ValueError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    output.write_bytes(inspection_file(data, fmt.value)[0])
    typer.echo(f"wrote {output} ({len(data.accounts)} accounts)")
