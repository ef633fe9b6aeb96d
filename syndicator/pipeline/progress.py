"""Adapters' notes about unfinished publishes, kept in the publication row (channels.base.ProgressLog)."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.db import Database
from syndicator.models import Publication

_KEY_PREFIX = "syndicator-"
_LEGACY_PREFIX = "syndicator-publication-"
_FIELD = "progress"


class PublicationProgress:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def recall(self, key: str) -> dict[str, str]:
        async with self.db.transaction() as session:
            publication = await _by_key(session, key)
        return dict(publication.remote_details.get(_FIELD, {})) if publication else {}

    async def note(self, key: str, **fields: str) -> None:
        async with self.db.transaction() as session:
            publication = await _by_key(session, key, lock=True)
            if publication is not None:
                notes = {**publication.remote_details.get(_FIELD, {}), **fields}
                publication.remote_details = {**publication.remote_details, _FIELD: notes}


async def _by_key(session: AsyncSession, key: str, *, lock: bool = False) -> Publication | None:
    """The publication an idempotency key belongs to (see Publication.key); None for other keys."""
    query = select(Publication)
    if key.startswith(_LEGACY_PREFIX) and key[len(_LEGACY_PREFIX) :].isdigit():
        query = query.where(Publication.id == int(key[len(_LEGACY_PREFIX) :]))
    elif key.startswith(_KEY_PREFIX):
        query = query.where(Publication.idempotency_key == key[len(_KEY_PREFIX) :])
    else:
        return None
    return (await session.exec(query.with_for_update() if lock else query)).first()
