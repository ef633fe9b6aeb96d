"""Compliance API: the report as JSON, CSV and XLSX; evidence and waivers (officers, audited)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.api.deps import (
    TOKEN_PROBLEMS,
    ApiState,
    DbId,
    SessionDep,
    StateDep,
    client_address,
    problems,
    require_roles,
)
from syndicator.models import User
from syndicator.obligations.clock import SHANGHAI, TargetStatus, aware
from syndicator.obligations.compliance import ComplianceReport, build_report
from syndicator.obligations.config import from_settings
from syndicator.obligations.export import EXPORT_TARGET_LIMIT, Sheet, to_csv, to_xlsx
from syndicator.obligations.fulfil import ObligationError, record_evidence, waive
from syndicator.obligations.inspection import Inspection, Period, inspect
from syndicator.obligations.inspection_export import inspection_file
from syndicator.obligations.report import ReportQuery
from syndicator.obligations.scope import OutOfScopeError, ScopeError, UnknownUnitError, unit_id_for
from syndicator.tabular import XLSX
from syndicator.workdays import WorkCalendar

router = APIRouter(prefix="/api/v1", tags=["compliance"])
Officer = Annotated[User, Depends(require_roles("officer", "admin"))]


class QueryParams:
    def __init__(
        self,
        as_of: Annotated[
            datetime | None,
            Query(description="the moment reported on (default now); without a zone: Asia/Shanghai"),
        ] = None,
        unit: Annotated[str | None, Query(description="unit id or name: it and its subordinates")] = None,
        level: Annotated[str | None, Query(description="national|province|city|county|department")] = None,
        platform: Annotated[str | None, Query(description="wechat|weibo|app")] = None,
        date_from: Annotated[date | None, Query(alias="from", description="deadlines from this day")] = None,
        date_to: Annotated[date | None, Query(alias="to", description="deadlines up to this day")] = None,
    ) -> None:
        self.as_of, self.unit, self.level, self.platform = aware(as_of), unit, level, platform
        self.date_from, self.date_to = date_from, date_to


Params = Annotated[QueryParams, Depends()]


async def report_for(
    session: AsyncSession,
    api: ApiState,
    caller: User,
    params: QueryParams,
    *,
    limit: int | None,
    offset: int = 0,
) -> ComplianceReport:
    try:
        query = ReportQuery(
            as_of=params.as_of,
            unit_id=await unit_id_for(session, params.unit),
            level=params.level,
            platform=params.platform,
            date_from=params.date_from,
            date_to=params.date_to,
        )
        return await build_report(
            session,
            query,
            user_scope=caller.scope_unit_id,
            config=from_settings(api.settings),
            calendar=WorkCalendar.from_file(api.settings.holiday_schedule_file),
            limit=limit,
            offset=offset,
        )
    except (UnknownUnitError, OutOfScopeError) as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except ScopeError as exc:
        raise HTTPException(403, detail=str(exc)) from exc


REPORT_PROBLEMS = TOKEN_PROBLEMS | problems(404)


def document(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {}}, "description": "the report"}, **REPORT_PROBLEMS}


@router.get(
    "/compliance",
    response_model=ComplianceReport,
    summary="Repost compliance at a moment",
    responses=REPORT_PROBLEMS,
)
async def compliance(
    session: SessionDep,
    api: StateDep,
    caller: Officer,
    params: Params,
    limit: Annotated[int, Query(ge=0, le=10_000, description="targets per page")] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ComplianceReport:
    """Every target in scope with its status at `as_of`, per-unit figures, the overdue list and
    silent or under-updating accounts. An officer with a scope unit sees that unit's subtree only."""
    return await report_for(session, api, caller, params, limit=limit, offset=offset)


def _filename(params: QueryParams, ext: str) -> str:
    return f"compliance-{params.as_of.astimezone(SHANGHAI):%Y%m%d-%H%M}.{ext}"


@router.get(
    "/compliance.csv",
    summary="Compliance report as CSV (UTF-8 with BOM)",
    response_class=Response,
    responses=document("text/csv"),
)
async def compliance_csv(
    session: SessionDep, api: StateDep, caller: Officer, params: Params, sheet: Sheet = Sheet.TARGETS
) -> Response:
    report = await report_for(session, api, caller, params, limit=EXPORT_TARGET_LIMIT)
    return Response(
        to_csv(report, sheet),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(params, "csv")}"'},
    )


@router.get(
    "/compliance.xlsx",
    summary="Compliance report as an Excel workbook",
    response_class=Response,
    responses=document(XLSX),
)
async def compliance_xlsx(session: SessionDep, api: StateDep, caller: Officer, params: Params) -> Response:
    report = await report_for(session, api, caller, params, limit=EXPORT_TARGET_LIMIT)
    return Response(
        to_xlsx(report),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{_filename(params, "xlsx")}"'},
    )


class InspectionFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


@router.get(
    "/compliance/inspection",
    summary="Inspection export per account and period (政务新媒体检查指标)",
    response_model=Inspection,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}, **REPORT_PROBLEMS},
)
async def compliance_inspection(
    session: SessionDep,
    api: StateDep,
    caller: Officer,
    date_from: Annotated[date, Query(alias="from", description="first day (Asia/Shanghai)")],
    date_to: Annotated[date, Query(alias="to", description="last day, inclusive")],
    unit: Annotated[str | None, Query(description="unit id or name: it and its subordinates")] = None,
    fmt: Annotated[InspectionFormat, Query(alias="format")] = InspectionFormat.JSON,
) -> Response:
    """Per account: items published; important-policy reposts due / on time / late / missed; the
    longest silence and the 14-day veto; update frequency against the county and municipal rules;
    comments received / replied / on time; findings held before publishing. JSON lists the ids
    behind every figure; XLSX has a summary sheet and one sheet per indicator."""
    try:
        period = Period.of(date_from, date_to)
        data = await inspect(
            session,
            api.settings,
            period,
            unit_id=await unit_id_for(session, unit),
            user_scope=caller.scope_unit_id,
        )
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    except UnknownUnitError as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except ScopeError as exc:
        raise HTTPException(403, detail=str(exc)) from exc
    name = f"inspection-{date_from:%Y%m%d}-{date_to:%Y%m%d}.{fmt.value}"
    body, media = inspection_file(data, fmt.value)
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


class EvidenceIn(BaseModel):
    url: str = Field(min_length=8, max_length=1000, description="where the repost is")
    note: str = Field("", max_length=2000)
    posted_at: datetime | None = Field(None, description="when it was posted (default now)")


class WaiverIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ObligationOut(BaseModel):
    id: int
    status: TargetStatus
    fulfilled_at: datetime | None
    fulfilled_via: str | None
    note: str | None


async def _decide(
    request: Request,
    session: AsyncSession,
    caller: User,
    action: str,
    obligation_id: int,
    body: EvidenceIn | WaiverIn,
) -> ObligationOut:
    try:
        if isinstance(body, EvidenceIn):
            ob = await record_evidence(
                session,
                obligation_id,
                officer=caller,
                url=body.url,
                note=body.note,
                posted_at=aware(body.posted_at) if body.posted_at else None,
                source=client_address(request),
            )
        else:
            ob = await waive(
                session, obligation_id, officer=caller, reason=body.reason, source=client_address(request)
            )
    except OutOfScopeError as exc:
        raise HTTPException(404, detail=f"obligation {obligation_id} does not exist") from exc
    except ScopeError as exc:
        raise HTTPException(403, detail=str(exc)) from exc
    except ObligationError as exc:
        raise HTTPException(404 if "does not exist" in str(exc) else 409, detail=str(exc)) from exc
    assert ob.id is not None
    return ObligationOut(
        id=ob.id,
        status=TargetStatus(ob.state),
        fulfilled_at=ob.fulfilled_at,
        fulfilled_via=ob.fulfilled_via,
        note=ob.note,
    )


DECISION_PROBLEMS = TOKEN_PROBLEMS | problems(404, 409)


@router.post(
    "/obligations/{obligation_id}/evidence", response_model=ObligationOut, responses=DECISION_PROBLEMS
)
async def evidence(
    obligation_id: DbId, body: EvidenceIn, request: Request, session: SessionDep, caller: Officer
) -> ObligationOut:
    """Record evidence of a repost (URL, note, time posted). A late repost stays late."""
    return await _decide(request, session, caller, "evidence", obligation_id, body)


@router.post("/obligations/{obligation_id}/waive", response_model=ObligationOut, responses=DECISION_PROBLEMS)
async def waiver(
    obligation_id: DbId, body: WaiverIn, request: Request, session: SessionDep, caller: Officer
) -> ObligationOut:
    """Waive a pending target, with a reason."""
    return await _decide(request, session, caller, "waive", obligation_id, body)
