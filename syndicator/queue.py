"""Enqueueing pipeline jobs on arq. Job ids are deterministic, so enqueueing twice is a no-op."""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from arq import ArqRedis
from arq.connections import RedisSettings, create_pool
from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

PUBLISH_JOB = "publish_publication"
POLL_JOB = "poll_publication"
WITHDRAW_JOB = "withdraw_publication"
# A queued job that no worker started within this time is dropped by arq; the reconciler
# re-enqueues from the database, so this only bounds how long Redis keeps dead entries.
JOB_EXPIRES_SECONDS = 7 * 24 * 3600


SENTINEL_SCHEME = "redis+sentinel://"


def redis_settings(redis_url: str) -> RedisSettings:
    """arq's RedisSettings from SYNDICATOR_REDIS_URL: `redis://…`, `rediss://…`, or Sentinel as
    `redis+sentinel://[:PASSWORD@]HOST:26379,HOST2:26379/MASTER_NAME[/DB]` (arq's sentinel mode)."""
    if not redis_url.startswith(SENTINEL_SCHEME):
        return RedisSettings.from_dsn(redis_url)
    sentinels, master, database, password = parse_sentinel_url(redis_url)
    return RedisSettings(
        host=sentinels, sentinel=True, sentinel_master=master, database=database, password=password
    )


def parse_sentinel_url(redis_url: str) -> tuple[list[tuple[str, int]], str, int, str | None]:
    """(sentinel addresses, master name, database, password) of a redis+sentinel:// URL."""
    rest = redis_url[len(SENTINEL_SCHEME) :]
    authority, _, path = rest.partition("/")
    credentials, _, hosts = authority.rpartition("@")
    password = credentials.partition(":")[2] or None if credentials else None
    sentinels = []
    for host in filter(None, hosts.split(",")):
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "26379")
        sentinels.append((name, int(port)))
    master, _, database = path.partition("/")
    if not sentinels or not master:
        raise ValueError(
            "SYNDICATOR_REDIS_URL: a Sentinel URL is redis+sentinel://HOST:26379,HOST2:26379/MASTER_NAME/DB"
        )
    return sentinels, master, int(database or 0), password


def redis_client(redis_url: str) -> Redis:
    """A plain redis-py client for the same URL (the bot's FSM storage, the demo's clean-up)."""
    if not redis_url.startswith(SENTINEL_SCHEME):
        return Redis.from_url(redis_url)
    sentinels, master, database, password = parse_sentinel_url(redis_url)
    sentinel = Sentinel(sentinels, password=password, sentinel_kwargs={"password": password})
    return sentinel.master_for(master, db=database, password=password)


async def connect(redis_url: str, queue_name: str) -> ArqRedis:
    settings = redis_settings(redis_url)
    settings.conn_retries = 1  # fail fast: callers say Redis is down and how to start it
    return await create_pool(settings, default_queue_name=queue_name)


def publish_job_id(publication_id: int, generation: int) -> str:
    return f"publish:{publication_id}:{generation}"


def poll_job_id(publication_id: int, generation: int, suffix: str = "") -> str:
    return f"poll:{publication_id}:{generation}" + (f":{suffix}" if suffix else "")


async def enqueue_publish(
    redis: ArqRedis, publication_id: int, generation: int = 0, *, defer_until: datetime | None = None
) -> bool:
    job = await redis.enqueue_job(
        PUBLISH_JOB,
        publication_id,
        _job_id=publish_job_id(publication_id, generation),
        _defer_until=defer_until,
        _expires=JOB_EXPIRES_SECONDS,
    )
    return job is not None


async def enqueue_poll(
    redis: ArqRedis, publication_id: int, generation: int, *, defer_by: float, suffix: str = ""
) -> bool:
    """`suffix` gives a prompt read (a WeChat push) its own job beside the deferred regular poll."""
    job = await redis.enqueue_job(
        POLL_JOB,
        publication_id,
        _job_id=poll_job_id(publication_id, generation, suffix),
        _defer_by=defer_by,
        _expires=JOB_EXPIRES_SECONDS,
    )
    return job is not None


async def enqueue_withdraw(redis: ArqRedis, publication_id: int, generation: int) -> bool:
    job = await redis.enqueue_job(
        WITHDRAW_JOB,
        publication_id,
        _job_id=f"withdraw:{publication_id}:{generation}",
        _expires=JOB_EXPIRES_SECONDS,
    )
    return job is not None


async def enqueue_publish_all(
    redis: ArqRedis | None, publication_ids: list[int], *, job: str = PUBLISH_JOB
) -> int:
    """Best effort after a commit: if Redis is down the reconciler picks the publications up."""
    if redis is None or not publication_ids:
        return 0
    enqueue = enqueue_withdraw if job == WITHDRAW_JOB else enqueue_publish
    try:
        await asyncio.gather(*(enqueue(redis, publication_id, 0) for publication_id in publication_ids))
    except (RedisError, OSError) as exc:
        log.warning("enqueue_failed_reconciler_will_retry", error=str(exc), publications=publication_ids)
        return 0
    return len(publication_ids)
