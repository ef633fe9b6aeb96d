"""Enqueueing pipeline jobs on arq. Job ids are deterministic, so enqueueing twice is a no-op."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import structlog
from arq import ArqRedis
from arq.connections import RedisSettings, create_pool
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

PUBLISH_JOB = "publish_publication"
POLL_JOB = "poll_publication"
WITHDRAW_JOB = "withdraw_publication"
# A queued job that no worker started within this time is dropped by arq; the reconciler
# re-enqueues from the database, so this only bounds how long Redis keeps dead entries.
JOB_EXPIRES_SECONDS = 7 * 24 * 3600


SENTINEL_SCHEME = "redis+sentinel://"

# arq's enqueue (WATCH, EXISTS, MULTI/EXEC: three round trips) as one script that also wakes the
# workers: they wait on the wake channel instead of polling Redis every few milliseconds.
# KEYS: job key, result key, queue; ARGV: serialized job, score, expiry ms, job id, wake channel.
_ENQUEUE_SCRIPT = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[2])
return 1
"""


def wake_channel(queue_name: str) -> str:
    """The pub/sub channel an enqueue on `queue_name` announces itself on (the score as message)."""
    return f"{queue_name}:wake"


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


async def enqueue_job(
    redis: ArqRedis,
    function: str,
    *args: Any,
    job_id: str,
    expires_seconds: float,
    defer_until: datetime | None = None,
    defer_by: float | None = None,
) -> bool:
    """Enqueue an arq job, one round trip, and wake the workers; False if a job with `job_id` is
    already queued or has a result (enqueueing twice is a no-op)."""
    keys, argv = _enqueue_call(redis, function, args, job_id, expires_seconds, defer_until, defer_by)
    return bool(await _ENQUEUE(keys=keys, args=argv, client=redis))


async def enqueue_jobs(
    redis: ArqRedis, function: str, jobs: dict[str, tuple[Any, ...]], *, expires_seconds: float
) -> int:
    """Many jobs (job id -> arguments) in one pipeline round trip; how many were new."""
    async with redis.pipeline(transaction=False) as pipe:
        for job_id, args in jobs.items():
            keys, argv = _enqueue_call(redis, function, args, job_id, expires_seconds, None, None)
            await _ENQUEUE(keys=keys, args=argv, client=pipe)
        added = await pipe.execute()
    return sum(bool(answer) for answer in added)


def _enqueue_call(
    redis: ArqRedis,
    function: str,
    args: tuple[Any, ...],
    job_id: str,
    expires_seconds: float,
    defer_until: datetime | None,
    defer_by: float | None,
) -> tuple[list[str], list[Any]]:
    """The script's KEYS and ARGV, the job serialized exactly as arq's own enqueue_job does."""
    now_ms = int(time.time() * 1000)
    if defer_until is not None:
        score = int(defer_until.timestamp() * 1000)
    else:
        score = now_ms + int((defer_by or 0) * 1000)
    job = serialize_job(function, args, {}, None, now_ms, serializer=redis.job_serializer)
    queue = redis.default_queue_name
    keys = [job_key_prefix + job_id, result_key_prefix + job_id, queue]
    return keys, [job, score, int(expires_seconds * 1000), job_id, wake_channel(queue)]


# One script object for every pool: bytes need no client's encoder, and each call names its client
# (redis-py sends EVALSHA and loads the script on NOSCRIPT).
_ENQUEUE = AsyncScript(None, _ENQUEUE_SCRIPT.encode())  # type: ignore[arg-type]  # no registered client: every call passes one


async def enqueue_publish(
    redis: ArqRedis, publication_id: int, generation: int = 0, *, defer_until: datetime | None = None
) -> bool:
    return await enqueue_job(
        redis,
        PUBLISH_JOB,
        publication_id,
        job_id=publish_job_id(publication_id, generation),
        expires_seconds=JOB_EXPIRES_SECONDS,
        defer_until=defer_until,
    )


async def enqueue_poll(
    redis: ArqRedis, publication_id: int, generation: int, *, defer_by: float, suffix: str = ""
) -> bool:
    """`suffix` gives a prompt read (a WeChat push) its own job beside the deferred regular poll."""
    return await enqueue_job(
        redis,
        POLL_JOB,
        publication_id,
        job_id=poll_job_id(publication_id, generation, suffix),
        expires_seconds=JOB_EXPIRES_SECONDS,
        defer_by=defer_by,
    )


def withdraw_job_id(publication_id: int, generation: int) -> str:
    return f"withdraw:{publication_id}:{generation}"


async def enqueue_withdraw(redis: ArqRedis, publication_id: int, generation: int) -> bool:
    return await enqueue_job(
        redis,
        WITHDRAW_JOB,
        publication_id,
        job_id=withdraw_job_id(publication_id, generation),
        expires_seconds=JOB_EXPIRES_SECONDS,
    )


async def enqueue_publish_all(
    redis: ArqRedis | None, publication_ids: list[int], *, job: str = PUBLISH_JOB
) -> int:
    """Best effort after a commit, all in one pipeline: if Redis is down the reconciler picks the
    publications up."""
    if redis is None or not publication_ids:
        return 0
    job_id = withdraw_job_id if job == WITHDRAW_JOB else publish_job_id
    try:
        await enqueue_jobs(
            redis,
            job,
            {job_id(pid, 0): (pid,) for pid in publication_ids},
            expires_seconds=JOB_EXPIRES_SECONDS,
        )
    except (RedisError, OSError) as exc:
        log.warning("enqueue_failed_reconciler_will_retry", error=str(exc), publications=publication_ids)
        return 0
    return len(publication_ids)
