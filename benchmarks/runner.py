"""One measured run of the pipeline, one of the raw-aiohttp baseline, and how both are reported."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import stack
from benchmarks.baseline import BaselineResult, run_baseline
from benchmarks.config import MAX_JOBS
from syndicator.pipeline.policy import TERMINAL_STATES

POST_CONCURRENCY = 20


@dataclass
class PipelineResult:
    publications: int
    published: int
    states: dict[str, int]
    seconds: float
    cpu_api: float
    cpu_workers: float
    cpu_emulators: float
    worker_rss_mb: list[float]
    peak_db_connections: int
    ingest_seconds: float
    db_transactions: int = 0
    completions: list[float] = field(default_factory=list, repr=False)

    @property
    def throughput(self) -> float:
        return self.publications / self.seconds

    @property
    def cpu_ms_per_publication(self) -> float:
        return (self.cpu_api + self.cpu_workers) * 1000 / self.publications

    @property
    def complete(self) -> bool:
        return sum(n for s, n in self.states.items() if s in TERMINAL_STATES) >= self.publications


@dataclass
class Comparison:
    label: str
    workers: int
    latency_ms: float
    pipeline: PipelineResult
    baseline: BaselineResult | None
    baseline_emulator_cpu: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def throughput_ratio(self) -> float | None:
        return self.pipeline.throughput / self.baseline.throughput if self.baseline else None

    @property
    def cpu_ratio(self) -> float | None:
        if not self.baseline:
            return None
        baseline_ms = self.baseline.cpu_seconds * 1000 / self.baseline.publications
        return self.pipeline.cpu_ms_per_publication / baseline_ms


async def run_pipeline(
    procs: stack.Processes,
    emulators: stack.Emulators,
    articles: Sequence[dict[str, Any]],
    *,
    platforms: Sequence[str],
    workers: int,
    latency_ms: float,
    keep_completions: bool = False,
    profile: bool = False,
    before_stop: Callable[[], Awaitable[None]] | None = None,
) -> PipelineResult:
    await stack.flush_queue()
    await emulators.start(latency_ms, platforms)
    pipeline = stack.Pipeline(procs, profile=profile)
    try:
        await pipeline.start(workers)
        result = await _measure(pipeline, emulators, articles, len(platforms), keep_completions)
        if before_stop is not None:
            await before_stop()
        return result
    finally:
        pipeline.stop()
        emulators.stop()


async def _measure(
    pipeline: stack.Pipeline,
    emulators: stack.Emulators,
    articles: Sequence[dict[str, Any]],
    channels: int,
    keep_completions: bool,
) -> PipelineResult:
    after = await stack.max_publication_id()
    expected = len(articles) * channels
    cpu0, emu0 = pipeline.cpu_seconds(), emulators.cpu_seconds()
    xact0 = await stack.db_transactions()
    peak: list[int] = [0]
    sampler = asyncio.create_task(_sample_connections(peak))
    start = time.time()
    try:
        await stack.post_articles(pipeline.api_url, articles, POST_CONCURRENCY)
        ingest_seconds = time.time() - start
        states = await stack.wait_terminal(after, expected, timeout=120 + expected * 0.05)
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    cpu1, emu1 = pipeline.cpu_seconds(), emulators.cpu_seconds()
    end = await stack.finished_at(after)
    await asyncio.sleep(1.5)  # backends report their statistics about once a second
    xact = await stack.db_transactions() - xact0
    return PipelineResult(
        publications=expected,
        published=states.get("published", 0),
        states=states,
        seconds=end - start,
        cpu_api=cpu1["api"] - cpu0["api"],
        cpu_workers=cpu1["workers"] - cpu0["workers"],
        cpu_emulators=emu1 - emu0,
        worker_rss_mb=pipeline.worker_rss_mb(),
        peak_db_connections=peak[0],
        ingest_seconds=ingest_seconds,
        db_transactions=xact,
        completions=[t - start for t in await stack.completion_times(after)] if keep_completions else [],
    )


async def _sample_connections(peak: list[int]) -> None:
    while True:
        peak[0] = max(peak[0], await stack.peak_connections())
        await asyncio.sleep(0.5)


async def run_raw(
    emulators: stack.Emulators,
    articles: Sequence[dict[str, Any]],
    *,
    platforms: Sequence[str],
    workers: int,
    latency_ms: float,
    tag: str,
) -> tuple[BaselineResult, float]:
    """The baseline at the pipeline's concurrency (workers x max_jobs), against fresh emulators."""
    await emulators.start(latency_ms, platforms)
    try:
        urls = {p: emulators.url(p) for p in platforms}
        emu0 = emulators.cpu_seconds()
        result = await run_baseline(urls, articles, platforms, concurrency=workers * MAX_JOBS, tag=tag)
        return result, emulators.cpu_seconds() - emu0
    finally:
        emulators.stop()


async def compare(
    procs: stack.Processes,
    emulators: stack.Emulators,
    articles: Sequence[dict[str, Any]],
    *,
    platforms: Sequence[str],
    workers: int,
    latency_ms: float,
    tag: str,
    profile: bool = False,
) -> Comparison:
    label = f"{len(articles)} articles x {len(platforms)} ch, {workers} worker(s), latency {latency_ms:g} ms"
    print(f"- {label}: pipeline ...", flush=True)
    result = await run_pipeline(
        procs,
        emulators,
        articles,
        platforms=platforms,
        workers=workers,
        latency_ms=latency_ms,
        profile=profile,
    )
    print(f"  pipeline {result.throughput:.1f} pub/s, states {result.states}", flush=True)
    baseline, emulator_cpu = await run_raw(
        emulators, articles, platforms=platforms, workers=workers, latency_ms=latency_ms, tag=tag
    )
    comparison = Comparison(label, workers, latency_ms, result, baseline, emulator_cpu)
    print(
        f"  baseline {baseline.throughput:.1f} pub/s -> ratio {comparison.throughput_ratio:.2f}", flush=True
    )
    return comparison


# -- reporting -------------------------------------------------------------------------------------


def comparison_row(item: Comparison) -> str:
    p, b = item.pipeline, item.baseline
    base_tp = f"{b.throughput:.1f}" if b else "-"
    base_cpu = f"{b.cpu_seconds * 1000 / b.publications:.2f}" if b else "-"
    ratio = f"{item.throughput_ratio:.2f}" if item.throughput_ratio is not None else "-"
    cpu_ratio = f"{item.cpu_ratio:.2f}" if item.cpu_ratio is not None else "-"
    rss = max(p.worker_rss_mb) if p.worker_rss_mb else 0.0
    return (
        f"| {item.workers} | {item.latency_ms:g} | {p.publications} | {p.published} | {p.throughput:.1f} | "
        f"{base_tp} | {ratio} | {p.cpu_ms_per_publication:.2f} | {base_cpu} | {cpu_ratio} | "
        f"{rss:.0f} | {p.peak_db_connections} | {p.db_transactions / p.publications:.1f} |"
    )


COMPARISON_HEADER = (
    "| workers | latency ms | pubs | published | pipeline pub/s | baseline pub/s | ratio | "
    "pipeline CPU ms/pub | baseline CPU ms/pub | CPU ratio | max worker RSS MB | peak DB conns | "
    "DB xact/pub |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def save(name: str, procs: stack.Processes, payload: dict[str, Any]) -> Path:
    path = procs.log_dir / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=_plain))
    return path


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    raise TypeError(type(value))
