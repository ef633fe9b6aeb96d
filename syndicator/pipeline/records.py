"""What every pipeline job does to a publication row: load it for a job, and record a new state."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import PublishResult
from syndicator import audit
from syndicator.context import WorkerContext
from syndicator.models import ChannelAccount, Publication, utcnow
from syndicator.pipeline.state import Transition, transition

WORKER = "worker"
# remote_details field: the post a re-sent publication replaces (set by the consistency fix).
REPLACES = "replaces"


async def load_for_job(
    deps: WorkerContext, publication_id: int, state: str
) -> tuple[Publication, ChannelAccount] | None:
    """The publication and its account, or None when it is no longer in `state` (nothing to do)."""
    async with deps.db.transaction() as session:
        publication = await session.get(Publication, publication_id)
        if publication is None or publication.state != state:
            return None
        account = await session.get(ChannelAccount, publication.account_id)
        assert account is not None
    return publication, account


def mark(
    session: AsyncSession,
    publication: Publication,
    state: str,
    *,
    code: str | None = None,
    message: str | None = None,
    actor: str = WORKER,
    **detail: Any,
) -> Transition:
    """The one writer of `Publication.state`: the move must be one the state machine declares
    (IllegalTransitionError otherwise). Sets the platform's code and message, if any, and audits it
    under the transition's action; the caller runs the returned transition's effects."""
    move = transition(publication.state, state)
    if move.source != move.target:
        publication.stalled_passes = 0  # a state change is progress (see reconciler.py)
    publication.state = move.target
    publication.error_code = code
    publication.error_message = message
    publication.updated_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action=move.action,
        object_type="publication",
        object_id=publication.id,
        code=code,
        message=message,
        **detail,
    )
    return move


def store_remote(publication: Publication, result: PublishResult) -> None:
    """What the platform answered; once a send has landed, the post it replaced is history."""
    details = {k: v for k, v in publication.remote_details.items() if k != REPLACES}
    publication.remote_id = result.remote_id
    publication.remote_url = result.url or publication.remote_url
    publication.remote_details = {**details, **result.details}
