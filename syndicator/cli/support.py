"""What every command shares: one transaction, the queue, one-line errors, plain tables."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from arq import ArqRedis
from redis.exceptions import RedisError
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import admin
from syndicator.articles import UnknownUnitError
from syndicator.config import Settings, get_settings
from syndicator.db import Database, open_database
from syndicator.pipeline.withdrawal import WithdrawalError
from syndicator.publications import PublicationError
from syndicator.queue import connect
from syndicator.review import (
    ReviewError,
)

CLI_ACTOR = "cli"
T = TypeVar("T")

KNOWN_ERRORS = (admin.AdminError, PublicationError, ReviewError, UnknownUnitError, WithdrawalError)


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction against the configured database; known errors become one line."""

    async def run() -> T:
        database = open_database(get_settings().database_url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except KNOWN_ERRORS as exc:
        raise fail(str(exc)) from None


def with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` with the configured database (it opens its own transactions)."""

    async def run() -> T:
        database = open_database(get_settings().database_url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except KNOWN_ERRORS as exc:
        raise fail(str(exc)) from None


def on_queue(work: Callable[[ArqRedis], Awaitable[object]]) -> bool:
    """Run `work` against the queue; False (with a clear message) when Redis is down."""
    settings = get_settings()

    async def run() -> None:
        redis = await connect(settings.redis_url, settings.queue_name)
        try:
            await work(redis)
        finally:
            await redis.aclose()

    try:
        asyncio.run(run())
    except (RedisError, OSError):
        typer.secho(
            redis_down_message(settings) + "; the worker's reconciler sends what is pending once it is",
            err=True,
            fg=typer.colors.YELLOW,
        )
        return False
    return True


def redis_down_message(settings: Settings) -> str:
    return (
        f"Redis is not reachable at {settings.redis_url}; start it with "
        "`redis-server --daemonize yes` or set SYNDICATOR_REDIS_URL"
    )


def print_rows(rows: list[dict[str, Any]]) -> None:
    if not rows:
        typer.echo("(none)")
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    typer.echo("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        typer.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns))
