"""The consistency audit's latest report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from syndicator.api.deps import TOKEN_PROBLEMS, SessionDep
from syndicator.api.scoping import CallerScope, scoped
from syndicator.consistency import latest_report

router = APIRouter(prefix="/api/v1/audit", tags=["consistency"])

Reader = Annotated[CallerScope, Depends(scoped("admin", "editor", "reviewer", "officer"))]


@router.get("/consistency", responses=TOKEN_PROBLEMS)
async def consistency_report(session: SessionDep, caller: Reader) -> dict[str, Any]:
    """The latest audit (the worker runs it on a schedule; `syndicator audit` runs it now), with
    only the drifts of articles in the caller's scope."""
    report = await latest_report(session)
    if report is None:
        return {"at": None, "drifts": [], "note": "no audit has run yet"}
    drifts = report.get("drifts", [])
    visible = await caller.visible_articles(session, (d["article_id"] for d in drifts))
    return {**report, "drifts": [d for d in drifts if d["article_id"] in visible]}
