"""Domain events: a fact one part of Syndicator states and others act on, without either importing
the other (the pipeline announces a publication went live; obligations fulfil the targets it meets).

Handlers run in the emitter's session, before its commit: what they write commits or rolls back
with the change that raised the event, and an error in one fails that transaction (the job is
retried) rather than being swallowed. Subscribers are wired at process start (`worker.startup`);
the pipeline names none of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True)
class PublicationPublished:
    """A publication reached `published` (the platform confirmed the post is live)."""

    publication_id: int


E = TypeVar("E")
Handler = Callable[[AsyncSession, E], Awaitable[None]]

_handlers: dict[type[Any], list[Handler[Any]]] = {}


def subscribe(event_type: type[E], handler: Handler[E]) -> None:
    """Idempotent: a worker restarted in the same process (tests, the demo) wires once."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


async def emit(session: AsyncSession, event: object) -> None:
    """Run every handler of `event`'s type, in subscription order, in `session`."""
    for handler in _handlers.get(type(event), []):
        await handler(session, event)
