"""`syndicator doctor`: everything an installation needs, checked at once, as one table.

Database and schema, Redis, each account's secret variable and a verify call per account,
Telegram getMe, and the clock (against the database's and Redis's, with no internet needed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text
from sqlmodel import col, select

from syndicator.accounts import secret_problem
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.models import AccountStatus, ChannelAccount
from syndicator.preflight import StartupError, check_database, open_checked_database
from syndicator.queue import connect
from syndicator.verification import verify_accounts

MAX_CLOCK_SKEW_SECONDS = 5.0
OFFICE_ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


async def run_doctor(settings: Settings) -> list[Check]:
    checks: list[Check] = []
    now = time.time()
    db = await _database(settings, checks)
    checks.extend(await _redis(settings, now))
    if db is not None:
        try:
            checks.extend(await _accounts(db))
            checks.append(await _database_clock(db, now))
        finally:
            await db.dispose()
    checks.append(await _telegram(settings))
    checks.append(_office_zone())
    return checks


async def _database(settings: Settings, checks: list[Check]) -> Database | None:
    try:
        db = open_checked_database(settings.database_url)
    except StartupError as exc:
        checks.append(Check("database", False, str(exc)))
        return None
    try:
        await check_database(db, settings.database_url)
    except StartupError as exc:
        checks.append(Check("database", False, str(exc)))
        await db.dispose()
        return None
    checks.append(Check("database", True, "reachable; schema at head"))
    return db


async def _redis(settings: Settings, now: float) -> list[Check]:
    try:
        redis = await connect(settings.redis_url, settings.queue_name)
    except Exception as exc:  # every client error is the same answer: unreachable
        return [Check("redis", False, f"{settings.redis_url}: {type(exc).__name__}: {exc}")]
    try:
        seconds, micros = await redis.time()
        queued = await redis.zcard(settings.queue_name)
    finally:
        await redis.aclose()
    skew = seconds + micros / 1e6 - now
    return [
        Check("redis", True, f"reachable; {queued} job(s) queued on {settings.queue_name}"),
        _clock("clock vs redis", skew),
    ]


async def _accounts(db: Database) -> list[Check]:
    async with db.transaction() as session:
        live = select(ChannelAccount).where(ChannelAccount.status != AccountStatus.ARCHIVED)
        accounts = (await session.exec(live.order_by(col(ChannelAccount.id)))).all()
    checks = [
        Check(f"secret {a.secret_env}", False, f"{problem} (account {a.name})")
        for a in accounts
        if (problem := secret_problem(a))
    ]
    verdicts = await verify_accounts(db)
    checks.extend(Check(f"account {v.account} ({v.platform})", v.ok, v.detail) for v in verdicts)
    if not accounts:
        checks.append(Check("accounts", False, "no accounts yet: `syndicator accounts add`"))
    return checks


async def _database_clock(db: Database, now: float) -> Check:
    if db.engine.dialect.name != "postgresql":
        return Check("clock vs database", True, "SQLite shares this machine's clock")
    async with db.engine.connect() as connection:
        server = (await connection.execute(text("SELECT now()"))).scalar_one()
    return _clock("clock vs database", server.timestamp() - now)


def _clock(name: str, skew: float) -> Check:
    ok = abs(skew) <= MAX_CLOCK_SKEW_SECONDS
    detail = f"{skew:+.1f} s" + ("" if ok else " — fix NTP: signatures, deadlines and crons depend on it")
    return Check(name, ok, detail)


async def _telegram(settings: Settings) -> Check:
    if not settings.telegram_token.get_secret_value():
        return Check("telegram", True, "not configured (SYNDICATOR_TELEGRAM_TOKEN unset): no chat bot")
    from syndicator.bot.client import build_bot

    bot = build_bot(settings)
    try:
        me = await bot.get_me()
    except Exception as exc:  # network, unauthorised, server errors: all are the answer
        return Check("telegram", False, f"getMe at {settings.telegram_api_url}: {type(exc).__name__}: {exc}")
    finally:
        await bot.session.close()
    return Check("telegram", True, f"getMe: @{me.username}")


def _office_zone() -> Check:
    try:
        office = datetime.now(UTC).astimezone(ZoneInfo(OFFICE_ZONE))
    except ZoneInfoNotFoundError:
        return Check("time zone", False, f"{OFFICE_ZONE} unknown: install tzdata (crons run on office time)")
    return Check("time zone", True, f"office time {office:%Y-%m-%d %H:%M} {OFFICE_ZONE}")
