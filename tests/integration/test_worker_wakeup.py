"""An idle worker sleeps until woken: by an enqueue, by a deferred job falling due, by a freed slot.

Every worker here waits up to an hour between looks of its own, so a job that runs at all was
started by a wake-up, not by the timed look (no timing is asserted)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq import ArqRedis, func
from arq.jobs import Job

from syndicator.moderation.queue import enqueue_applies
from syndicator.queue import connect, enqueue_job, enqueue_publish, enqueue_publish_all, redis_settings
from syndicator.worker import PipelineWorker

pytestmark = pytest.mark.integration

QUEUE = "syndicator:test-wakeup"
AN_HOUR = 3600.0


class Ran:
    """Records the jobs the test functions ran and lets a test wait for them."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.changed = asyncio.Event()
        self.gate = asyncio.Event()

    async def until(self, count: int) -> list[Any]:
        while len(self.values) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 3)  # a hang guard, not a timing check
        return self.values


async def record(ctx: dict[str, Any], value: Any) -> None:
    ctx["ran"].values.append(value)
    ctx["ran"].changed.set()


async def held(ctx: dict[str, Any], value: Any) -> None:
    await ctx["ran"].gate.wait()
    await record(ctx, value)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    client = await connect(redis_url, QUEUE)
    yield client
    await client.aclose()


async def idle_worker(redis_url: str, ran: Ran, **options: Any) -> tuple[PipelineWorker, asyncio.Task[None]]:
    worker = PipelineWorker(
        functions=[func(record, keep_result=0), func(held, keep_result=0)],
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE,
        ctx={"ran": ran},
        handle_signals=False,
        keep_result=0,
        idle_poll_seconds=AN_HOUR,
        **options,
    )
    task = asyncio.create_task(worker.main())
    while worker._listener is None:  # the worker has looked once and is now asleep
        await asyncio.sleep(0.01)
    return worker, task


async def stop(worker: PipelineWorker, task: asyncio.Task[None]) -> None:
    await asyncio.gather(*worker.tasks.values())  # close() would cancel jobs still finishing
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await worker.close()


async def test_an_enqueue_wakes_an_idle_worker(redis: ArqRedis, redis_url: str) -> None:
    ran = Ran()
    worker, task = await idle_worker(redis_url, ran)
    try:
        assert await enqueue_job(redis, "record", "first", job_id="j1", expires_seconds=60)
        assert await ran.until(1) == ["first"]
    finally:
        await stop(worker, task)


async def test_a_deferred_job_wakes_the_worker_when_due(redis: ArqRedis, redis_url: str) -> None:
    ran = Ran()
    worker, task = await idle_worker(redis_url, ran)
    try:
        # The enqueue's wake-up finds the job not yet due; the worker must sleep only until it is.
        await enqueue_job(redis, "record", "later", job_id="j2", expires_seconds=60, defer_by=0.3)
        assert await ran.until(1) == ["later"]
    finally:
        await stop(worker, task)


async def test_a_full_worker_takes_the_next_job_when_a_slot_frees(redis: ArqRedis, redis_url: str) -> None:
    ran = Ran()
    worker, task = await idle_worker(redis_url, ran, max_jobs=1)
    try:
        await enqueue_job(redis, "held", "a", job_id="a", expires_seconds=60)
        await enqueue_job(redis, "record", "b", job_id="b", expires_seconds=60)
        while worker.job_counter < 1:
            await asyncio.sleep(0.01)
        ran.gate.set()
        assert sorted(await ran.until(2)) == ["a", "b"]
    finally:
        await stop(worker, task)


async def test_enqueueing_twice_is_a_no_op(redis: ArqRedis) -> None:
    assert await enqueue_publish(redis, 7) is True
    assert await enqueue_publish(redis, 7) is False
    assert await enqueue_publish_all(redis, [7, 8, 9]) == 3
    assert await redis.zcard(QUEUE) == 3


async def test_batched_enqueues_read_back_as_arq_jobs(redis: ArqRedis) -> None:
    """The pipelined script writes jobs exactly as arq's own enqueue does."""
    await enqueue_publish_all(redis, [1, 2])
    info = await Job("publish:2:0", redis, _queue_name=QUEUE).info()
    assert info is not None and (info.function, info.args) == ("publish_publication", (2,))
    assert await redis.zcard(QUEUE) == 2


async def test_a_polls_decisions_read_back_as_one_arq_job(redis: ArqRedis) -> None:
    await enqueue_applies(redis, [(1, 0, "rejected"), (2, 3, "rejected")])
    (job_id,) = await redis.zrange(QUEUE, 0, -1)
    info = await Job(job_id.decode(), redis, _queue_name=QUEUE).info()
    assert info is not None and info.function == "apply_decisions"
    assert info.args == ([[1, 0, "rejected"], [2, 3, "rejected"]],)
