"""The bot process: Dispatcher with the session/reviewer middlewares and the feature routers.

`syndicator bot` calls `run_bot(settings)` (long polling). Tests build the same Dispatcher with
`build_dispatcher` and point the Bot at a fake Bot API server through Settings.telegram_api_url.
"""

from __future__ import annotations

import asyncio

import structlog
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import ErrorEvent
from aiogram.utils.backoff import BackoffConfig
from arq import ArqRedis
from redis.exceptions import RedisError

from syndicator.bot.client import TelegramNotConfiguredError, build_bot
from syndicator.bot.delivery import deliver_forever
from syndicator.bot.middlewares import DbSessionMiddleware, RoleMiddleware
from syndicator.bot.routers import commands, compliance, moderation
from syndicator.config import Settings
from syndicator.db import Database, open_database
from syndicator.queue import connect, redis_client
from syndicator.resilience import Outage, wait_until_available
from syndicator.workdays import WorkCalendar

__all__ = ["TelegramNotConfiguredError", "build_bot", "build_dispatcher", "run_bot"]

log = structlog.get_logger(__name__)
POLLING_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=60.0, factor=2.0, jitter=0.1)
TELEGRAM_OUTAGES = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter)
FSM_KEY_PREFIX = "syn:fsm"
FSM_TTL_SECONDS = 24 * 3600  # a reply left half-typed is forgotten after a day


def build_dispatcher(
    *, db: Database, storage: BaseStorage, redis: ArqRedis | None, calendar: WorkCalendar
) -> Dispatcher:
    dp = Dispatcher(storage=storage)
    dp["arq"] = redis
    dp["calendar"] = calendar
    for observer in (dp.message, dp.callback_query):
        observer.middleware(DbSessionMiddleware(db))
    dp.include_routers(
        guarded(moderation.build_router(), "reviewer"),
        guarded(commands.build_router(), "reviewer"),
        guarded(compliance.build_router(), "officer", "admin"),
    )

    @dp.errors()
    async def on_error(event: ErrorEvent) -> bool:
        log.error("bot_handler_failed", update_id=event.update.update_id, error=repr(event.exception))
        return True

    return dp


def guarded(router: Router, *roles: str) -> Router:
    """Only registered users with one of `roles` reach the router's handlers."""
    for observer in (router.message, router.callback_query):
        observer.middleware(RoleMiddleware(*roles))
    return router


def fsm_storage(settings: Settings) -> RedisStorage:
    from aiogram.fsm.storage.base import DefaultKeyBuilder

    return RedisStorage(
        redis_client(settings.redis_url),
        key_builder=DefaultKeyBuilder(prefix=FSM_KEY_PREFIX),
        state_ttl=FSM_TTL_SECONDS,
        data_ttl=FSM_TTL_SECONDS,
    )


async def run_bot(settings: Settings, *, polling_timeout: int = 30) -> None:
    """Long-poll the Bot API until interrupted (SIGINT/SIGTERM)."""
    bot: Bot = build_bot(settings)
    db = open_database(settings.database_url)
    storage = fsm_storage(settings)
    try:
        redis: ArqRedis | None = await connect(settings.redis_url, settings.queue_name)
    except (RedisError, OSError) as exc:
        # Decisions are still stored; the worker's reconciler applies them once Redis is back.
        log.error("redis_unavailable", redis_url=settings.redis_url, error=str(exc))
        redis = None
    dp = build_dispatcher(
        db=db, storage=storage, redis=redis, calendar=WorkCalendar.from_file(settings.holiday_schedule_file)
    )
    log.info("bot_starting", api=settings.telegram_api_url, moderation_chat_id=settings.moderation_chat_id)
    delivery = asyncio.create_task(deliver_forever(db, settings))
    try:
        # Telegram unreachable at start is an outage to wait out, not a crash (polling backs off later).
        await wait_until_available(bot.get_me, Outage("telegram"), errors=TELEGRAM_OUTAGES)
        await dp.start_polling(
            bot,
            polling_timeout=polling_timeout,
            allowed_updates=dp.resolve_used_update_types(),
            # aiogram logs each failed getUpdates: back off to a minute, so a long outage is a line a minute.
            backoff_config=POLLING_BACKOFF,
        )
    finally:
        delivery.cancel()
        await storage.close()
        if redis is not None:
            await redis.aclose()
        await db.dispose()
