"""The consistency audit's latest report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from syndicator.consistency import latest_report
from syndicator.ingest.deps import SessionDep, require_roles
from syndicator.models import User

router = APIRouter(prefix="/api/v1/audit", tags=["consistency"])

Reader = Annotated[User, Depends(require_roles("admin", "editor", "reviewer", "officer"))]


@router.get("/consistency")
async def consistency_report(session: SessionDep, _caller: Reader) -> dict[str, Any]:
    """The latest audit (the worker runs it on a schedule; `syndicator audit` runs it now)."""
    return await latest_report(session) or {"at": None, "drifts": [], "note": "no audit has run yet"}
