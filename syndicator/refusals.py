"""Unauthenticated refusals, counted per (action, reason, address, minute).

One audit row per refused request let a fuzzing run write 1,031 rows; a counter row per minute
keeps the same facts (who, why, when, how often) at a bounded cost. Refusals of signed-in users
(403) stay in the audit trail: they name a person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.db import Database
from syndicator.models import RefusalCount, utcnow


async def count_refusal(
    db: Database, *, action: str, reason: str, source: str, now: datetime | None = None
) -> None:
    minute = (now or utcnow()).replace(second=0, microsecond=0)
    async with db.transaction() as session:
        await _upsert(session, action=action, reason=reason[:200], source=source[:200], minute=minute)


async def _upsert(session: AsyncSession, **key: object) -> None:
    table = RefusalCount.__table__  # type: ignore[attr-defined]  # sqlmodel sets __table__ but does not declare it
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(**key, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=["action", "reason", "source", "minute"], set_={"count": table.c.count + 1}
    )
    await session.exec(statement)
