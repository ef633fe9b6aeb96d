"""What `serve`, `worker` and `bot` do before they start: settings, database, schema, secrets.

Every failure is one line naming the setting and the fix, and exit status 1.
"""

from __future__ import annotations

import asyncio

import structlog
from pydantic import ValidationError
from sqlmodel import select

from syndicator.accounts import secret_problem, setting_problems
from syndicator.cli.support import fail
from syndicator.config import Settings, get_settings
from syndicator.log import configure_logging
from syndicator.models import AccountStatus, ChannelAccount
from syndicator.preflight import StartupError, missing_secrets, preflight

log = structlog.get_logger(__name__)


def checked_settings() -> Settings:
    """The settings, or one line per bad variable and exit 1."""
    try:
        return get_settings()
    except ValidationError as exc:
        lines = [f"SYNDICATOR_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()]
        raise fail("; ".join(lines)) from None


def start_process(process: str) -> Settings:
    """Checks for a long-running process: refuse to start on an unusable database or an old schema."""
    configure_logging()
    settings = checked_settings()
    try:
        asyncio.run(preflight(settings))
    except StartupError as exc:
        raise fail(str(exc)) from None
    for warning in missing_secrets(settings, process):
        log.warning("startup_setting_missing", detail=warning)
    return settings


async def warn_unusable_accounts(settings: Settings) -> None:
    """One warning per active account this worker cannot send for (its publications will fail typed)."""
    from syndicator.db import open_database

    db = open_database(settings.database_url)
    try:
        active = select(ChannelAccount).where(ChannelAccount.status == AccountStatus.ACTIVE)
        async with db.transaction() as session:
            accounts = (await session.exec(active)).all()
    finally:
        await db.dispose()
    for account in accounts:
        for problem in [*setting_problems(account), *filter(None, [secret_problem(account)])]:
            log.warning("account_unusable", account=account.name, platform=account.platform, problem=problem)
