"""Writing the audit trail. Every state change goes through `record`."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import AuditEvent


def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: object | None = None,
    source: str | None = None,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        source=source,
        detail=detail,
    )
    session.add(event)
    return event
