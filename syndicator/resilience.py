"""Riding out a dependency's outage: backoff between attempts, one log line a minute while it lasts.

The worker restarts arq's main loop when Redis goes away; the bot waits for Telegram before it
starts polling (aiogram's polling loop has its own backoff once it runs).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from arq import Worker
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

LOG_EVERY_SECONDS = 60.0
BACKOFF_CAP_SECONDS = 30.0


class Outage:
    """Backoff and rate-limited logging for one dependency (`what`: "redis", "telegram")."""

    def __init__(self, what: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self._clock = clock
        self._since: float | None = None
        self._logged_at: float | None = None
        self._failures = 0

    def failed(self, exc: BaseException) -> float:
        """Note a failed attempt; returns the seconds to wait before the next one."""
        now = self._clock()
        if self._since is None:
            self._since = now
        self._failures += 1
        if self._logged_at is None or now - self._logged_at >= LOG_EVERY_SECONDS:
            self._logged_at = now
            log.warning(
                f"{self.what}_unavailable",
                error=f"{type(exc).__name__}: {exc}",
                down_seconds=round(now - self._since),
                attempts=self._failures,
            )
        return min(BACKOFF_CAP_SECONDS, 2 ** min(self._failures - 1, 10))

    def recovered(self) -> None:
        if self._since is not None:
            log.info(f"{self.what}_recovered", down_seconds=round(self._clock() - self._since))
        self._since = self._logged_at = None
        self._failures = 0


async def run_worker_forever(
    make_worker: Callable[[], Worker],
    *,
    outage: Outage | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> None:
    """Run arq workers one after another: a lost Redis ends one, and a new one starts after a backoff.

    Jobs in progress when Redis went away are safe: the database says where each publication is
    and the reconciler re-enqueues it."""
    outage = outage or Outage("redis")
    while True:
        worker = make_worker()
        worker.main_task = asyncio.ensure_future(worker.main())
        try:
            await worker.main_task
            return
        except asyncio.CancelledError:  # SIGINT/SIGTERM: arq's handler cancelled the main task
            return
        except (RedisError, OSError) as exc:
            delay = outage.failed(exc)
        finally:
            await _close(worker)
        await sleep(delay)


async def _close(worker: Worker) -> None:
    try:
        await worker.close()
    except (RedisError, OSError):  # closing a pool whose server is gone
        pass


async def wait_until_available(
    probe: Callable[[], Awaitable[Any]],
    outage: Outage,
    *,
    errors: tuple[type[BaseException], ...],
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> Any:
    """Call `probe` until it answers; `errors` are outages, anything else is a real failure."""
    while True:
        try:
            answer = await probe()
        except errors as exc:
            await sleep(outage.failed(exc))
            continue
        outage.recovered()
        return answer
