"""The consistency audit's latest report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from syndicator.api.deps import TOKEN_PROBLEMS, SessionDep
from syndicator.api.scoping import CallerScope, scoped
from syndicator.consistency import latest_report

router = APIRouter(prefix="/api/v1/audit", tags=["consistency"])

Reader = Annotated[CallerScope, Depends(scoped("admin", "editor", "reviewer", "officer"))]


class DriftOut(BaseModel):
    kind: str
    publication_id: int
    article_id: int
    title: str
    platform: str
    account: str
    remote_id: str
    fixed: bool = False
    error: str | None = None
    answer: str | None = None  # for `unreadable`: the platform's answer, secrets removed


class ConsistencyReport(BaseModel):
    at: str | None  # ISO 8601, as recorded
    fix: bool | None = None  # whether the audit was run with --fix
    drifts: list[DriftOut]
    note: str | None = None


@router.get("/consistency", response_model=ConsistencyReport, responses=TOKEN_PROBLEMS)
async def consistency_report(session: SessionDep, caller: Reader) -> ConsistencyReport:
    """The latest audit (the worker runs it on a schedule; `syndicator audit` runs it now), with
    only the drifts of articles in the caller's scope."""
    report = await latest_report(session)
    if report is None:
        return ConsistencyReport(at=None, drifts=[], note="no audit has run yet")
    drifts = report.get("drifts", [])
    visible = await caller.visible_articles(session, (d["article_id"] for d in drifts))
    return ConsistencyReport(
        at=report["at"],
        fix=report.get("fix"),
        drifts=[DriftOut.model_validate(d) for d in drifts if d["article_id"] in visible],
    )
