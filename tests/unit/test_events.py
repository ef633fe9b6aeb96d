"""Domain events: handlers run in the emitter's session, once each, and their errors are not swallowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import events


@dataclass(frozen=True)
class Happened:
    what: str


@dataclass(frozen=True)
class Unheard:
    what: str


@dataclass(frozen=True)
class Refused:
    what: str


SESSION = cast(AsyncSession, object())  # handlers get the emitter's session as it is


async def test_a_handler_subscribed_twice_runs_once_with_the_emitters_session() -> None:
    seen: list[tuple[Any, Happened]] = []

    async def record(session: AsyncSession, event: Happened) -> None:
        seen.append((session, event))

    events.subscribe(Happened, record)
    events.subscribe(Happened, record)  # a worker started again in the same process
    await events.emit(SESSION, Happened("published"))
    await events.emit(SESSION, Unheard("nobody listens"))
    assert seen == [(SESSION, Happened("published"))]


async def test_a_failing_handler_fails_the_emitter() -> None:
    """The emitter's transaction rolls back (the job is retried) instead of losing the follow-up."""

    async def fail(session: AsyncSession, event: Refused) -> None:
        raise RuntimeError("obligations could not be fulfilled")

    events.subscribe(Refused, fail)
    with pytest.raises(RuntimeError):
        await events.emit(SESSION, Refused("published"))
