"""arq jobs: poll the upstream feeds, run the obligation clock (reminders, escalation) and warn
of silent accounts before the 14-day veto.

The worker adds `FUNCTIONS` and `CRON_JOBS`; the jobs use the worker's `ctx["context"]`
(WorkerContext: settings, db, http). Each is safe to run on several workers at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from arq import cron, func

from syndicator.context import WorkerContext
from syndicator.models import utcnow
from syndicator.obligations.config import from_settings
from syndicator.obligations.feeds import poll_all
from syndicator.obligations.reminders import run_clock
from syndicator.obligations.silence import warn_silence
from syndicator.workdays import WorkCalendar

log = structlog.get_logger(__name__)


async def poll_upstream_feeds(ctx: dict[str, Any], now: datetime | None = None) -> int:
    deps: WorkerContext = ctx["context"]
    config = from_settings(deps.settings)
    results = await poll_all(deps.db, deps.fetcher, config.feeds, config=config, now=now or utcnow())
    return sum(r.targets_opened for r in results)


async def run_obligation_clock(ctx: dict[str, Any], now: datetime | None = None) -> int:
    deps: WorkerContext = ctx["context"]
    async with deps.db.transaction() as session:
        return await run_clock(session, now=now or utcnow(), config=from_settings(deps.settings))


async def warn_silent_accounts(ctx: dict[str, Any], now: datetime | None = None) -> int:
    deps: WorkerContext = ctx["context"]
    calendar = WorkCalendar.from_file(deps.settings.holiday_schedule_file)
    async with deps.db.transaction() as session:
        return await warn_silence(
            session,
            now=now or utcnow(),
            config=from_settings(deps.settings),
            is_working_day=calendar.is_working_day,
        )


FUNCTIONS = [
    func(poll_upstream_feeds, keep_result=0, max_tries=3),
    func(run_obligation_clock, keep_result=0, max_tries=3),
    func(warn_silent_accounts, keep_result=0, max_tries=3),
]
CRON_JOBS = [
    cron(poll_upstream_feeds, minute=set(range(0, 60, 5)), second=15, unique=True, run_at_startup=True),
    cron(run_obligation_clock, second=45, unique=True, run_at_startup=True),  # every minute
    # Hourly: a stage is warned once whenever it is reached; county misses after the day is over.
    cron(warn_silent_accounts, minute=7, second=30, unique=True, run_at_startup=True),
]
