"""Prometheus metrics for `/metrics`.

Gauges are read from the database (the source of truth) and Redis at scrape time, so any API
process answers for the whole installation. Events that happen in workers (publish latency,
retries, platform error codes, token fetches) are counted in one Redis hash shared by every
worker; a Redis flush resets them, which Prometheus treats as a counter reset.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

import structlog
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import func
from sqlmodel import col, select

from syndicator.db import Database
from syndicator.models import (
    ChannelAccount,
    Comment,
    CommentState,
    Notification,
    Obligation,
    ObligationState,
    Publication,
    utcnow,
)

log = structlog.get_logger(__name__)

EVENTS_KEY = "syn:metrics"
# Seconds from the article's arrival to the post being live on the platform.
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, math.inf)


async def observe_publish_latency(redis: Redis | None, platform: str, seconds: float) -> None:
    fields = [f"latency|{platform}|{le}" for le in LATENCY_BUCKETS if seconds <= le]
    await _bump(redis, fields, sums={f"latency_sum|{platform}": seconds})


async def count_channel_error(redis: Redis | None, platform: str, code: str | None, *, retried: bool) -> None:
    """A platform call that failed, by the platform's code; `retried` when another attempt follows."""
    fields = [f"error|{platform}|{code or 'none'}"] + ([f"retry|{platform}"] if retried else [])
    await _bump(redis, fields)


async def count_token_fetch(redis: Redis | None, platform: str) -> None:
    await _bump(redis, [f"token|{platform}"])


async def _bump(redis: Redis | None, fields: list[str], sums: dict[str, float] | None = None) -> None:
    """Best effort: a metric must never fail a job."""
    if redis is None:
        return
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for name in fields:
                pipe.hincrby(EVENTS_KEY, name, 1)
            for name, value in (sums or {}).items():
                pipe.hincrbyfloat(EVENTS_KEY, name, value)
            await pipe.execute()
    except (RedisError, OSError) as exc:
        log.debug("metrics_not_counted", error=str(exc))


async def collect(db: Database, redis: Redis | None, queue_name: str) -> list[Metric]:
    """Every metric, gathered now."""
    now = utcnow()
    metrics = await _from_database(db, now)
    metrics.extend(await _from_redis(redis, queue_name))
    return metrics


async def _from_database(db: Database, now: datetime) -> list[Metric]:
    publications = GaugeMetricFamily(
        "syndicator_publications", "Publications by platform and state", labels=["platform", "state"]
    )
    comments = GaugeMetricFamily("syndicator_comments_pending", "Comments waiting for a moderator")
    comment_age = GaugeMetricFamily(
        "syndicator_comments_oldest_pending_age_seconds", "Age of the oldest comment waiting for a moderator"
    )
    obligations = GaugeMetricFamily(
        "syndicator_obligation_targets", "Open repost obligation targets: due (in time) or overdue",
        labels=["status"],
    )  # fmt: skip
    outbox = GaugeMetricFamily("syndicator_outbox_backlog", "Chat messages not yet delivered")
    outbox_age = GaugeMetricFamily(
        "syndicator_outbox_oldest_age_seconds", "Age of the oldest undelivered chat message"
    )
    async with db.transaction() as session:
        rows = await session.exec(
            select(ChannelAccount.platform, Publication.state, func.count())
            .join(ChannelAccount, col(ChannelAccount.id) == col(Publication.account_id))
            .group_by(col(ChannelAccount.platform), col(Publication.state))
        )
        for platform, state, count in rows.all():
            publications.add_metric([platform, state], count)
        pending, oldest = (
            await session.exec(
                select(func.count(), func.min(Comment.received_at)).where(
                    Comment.state == CommentState.PENDING
                )
            )
        ).one()
        comments.add_metric([], pending)
        comment_age.add_metric([], _age(now, oldest))
        open_targets = select(func.count()).where(Obligation.state == ObligationState.OPEN)
        due = (await session.exec(open_targets.where(Obligation.deadline_at >= now))).one()
        overdue = (
            await session.exec(
                select(func.count()).where(
                    (col(Obligation.state) == ObligationState.OVERDUE)
                    | ((col(Obligation.state) == ObligationState.OPEN) & (col(Obligation.deadline_at) < now))
                )
            )
        ).one()
        obligations.add_metric(["due"], due)
        obligations.add_metric(["overdue"], overdue)
        backlog, oldest_message = (
            await session.exec(
                select(func.count(), func.min(Notification.created_at)).where(Notification.state != "sent")
            )
        ).one()
        outbox.add_metric([], backlog)
        outbox_age.add_metric([], _age(now, oldest_message))
    return [publications, comments, comment_age, obligations, outbox, outbox_age]


def _age(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:  # SQLite hands naive UTC back through some aggregate paths
        since = since.replace(tzinfo=now.tzinfo)
    return max((now - since).total_seconds(), 0.0)


async def _from_redis(redis: Redis | None, queue_name: str) -> list[Metric]:
    up = GaugeMetricFamily("syndicator_redis_up", "1 when the API reaches Redis")
    if redis is None:
        up.add_metric([], 0)
        return [up]
    try:
        depth = await redis.zcard(queue_name)
        events = {k.decode(): v.decode() for k, v in (await redis.hgetall(EVENTS_KEY)).items()}  # type: ignore[misc]  # redis-py types async commands as `Awaitable[T] | T`
    except (RedisError, OSError):
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    queue = GaugeMetricFamily("syndicator_queue_depth", "Jobs waiting in the arq queue", labels=["queue"])
    queue.add_metric([queue_name], depth)
    return [up, queue, *_events(events)]


def _events(events: dict[str, str]) -> Iterator[Metric]:
    errors = CounterMetricFamily(
        "syndicator_channel_errors", "Failed platform calls by platform and the platform's code",
        labels=["platform", "code"],
    )  # fmt: skip
    retries = CounterMetricFamily(
        "syndicator_publish_retries", "Publish attempts scheduled again", labels=["platform"]
    )
    tokens = CounterMetricFamily(
        "syndicator_token_fetches", "Access tokens fetched from a platform", labels=["platform"]
    )
    latency: dict[str, dict[float, float]] = {}
    sums: dict[str, float] = {}
    for name, value in events.items():
        kind, *labels = name.split("|")
        if kind == "error":
            errors.add_metric(labels, float(value))
        elif kind == "retry":
            retries.add_metric(labels, float(value))
        elif kind == "token":
            tokens.add_metric(labels, float(value))
        elif kind == "latency":
            latency.setdefault(labels[0], {})[float(labels[1])] = float(value)
        elif kind == "latency_sum":
            sums[labels[0]] = float(value)
    histogram = HistogramMetricFamily(
        "syndicator_publish_latency_seconds", "From the article's arrival to the post being live",
        labels=["platform"],
    )  # fmt: skip
    for platform, counts in sorted(latency.items()):
        buckets = [(_le(le), counts.get(le, 0.0)) for le in LATENCY_BUCKETS]
        histogram.add_metric([platform], buckets, sum_value=sums.get(platform, 0.0))
    yield from (errors, retries, tokens, histogram)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else str(bound)
