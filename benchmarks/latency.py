"""Publish latency at low load (goal 2): ingest 202 -> `published`, app channel only.

    .venv/bin/python -m benchmarks.latency              # 200 articles, one every 0.2 s, app at 100 ms
    .venv/bin/python -m benchmarks.latency --quick      # 50 articles
    .venv/bin/python -m benchmarks.latency --compare    # also arq's 10 ms poll (the old worker), same run

Single articles are posted at a steady low rate to one unit that has only an app account; each
latency is `published_at` (from the database) minus the moment the 202 arrived. Reported as
p50 / p90 / p99 / max, and as overhead = latency - the app emulator's configured latency.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp

from benchmarks import config as c
from benchmarks import stack
from benchmarks.runner import save
from syndicator.demo.stack import UnitSpec, derived_articles

UNIT = UnitSpec("基准测试延迟单位", "city", "bench.gov.cn", ("app",))
GOAL_P99_MS = 50.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="50 articles")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between articles (default 0.2)")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="app emulator latency (default 100)")
    parser.add_argument("--compare", action="store_true", help="then the same with the old polling worker")
    return parser.parse_args()


async def post_spaced(api_url: str, count: int, interval: float) -> list[stack.Accepted]:
    articles = derived_articles(count, f"l{int(time.time()) % 10**6}", unit=UNIT.name)
    accepted = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for article in articles:
            started = time.monotonic()
            accepted.append(await stack.post_article(session, api_url, article))
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
    return accepted


async def main(args: argparse.Namespace, procs: stack.Processes) -> None:
    count = 50 if args.quick else args.articles
    print(f"machine: {stack.machine()}; logs in {procs.log_dir}", flush=True)
    emulators = stack.Emulators(procs)
    await stack.fresh_database()
    await stack.flush_queue()
    await stack.seed([UNIT], emulators)
    await emulators.start(args.latency_ms, ("app",))
    workers = {"woken worker (shipped)": stack.Pipeline(procs)}
    if args.compare:
        argv = (str(c.PYTHON), "-m", "benchmarks.idle", "--polling-worker")
        workers["arq 10 ms poll (before)"] = stack.Pipeline(procs, worker_argv=argv)
    payload: dict[str, object] = {"machine": stack.machine(), "args": vars(args)}
    try:
        for name, pipeline in workers.items():
            latencies, states = await measure(pipeline, count, args.interval)
            report(name, latencies, args.latency_ms, states)
            payload[name] = {"latencies_ms": latencies, "states": states}
    finally:
        emulators.stop()
    print(f"\nraw results: {save('latency', procs, payload)}")


async def measure(
    pipeline: stack.Pipeline, count: int, interval: float
) -> tuple[list[float], dict[str, int]]:
    try:
        await pipeline.start(1)
        after = await stack.max_publication_id()
        accepted = await post_spaced(pipeline.api_url, count, interval)
        states = await stack.wait_terminal(after, count, timeout=60 + count)
        published = await stack.published_times([i for a in accepted for i in a.publications])
    finally:
        pipeline.stop()
    latencies = [
        (published[pid] - a.accepted_at) * 1000
        for a in accepted
        for pid in a.publications
        if pid in published
    ]
    return latencies, states


def report(name: str, latencies: list[float], emulator_ms: float, states: dict[str, int]) -> None:
    load = stack.machine()["load"]
    print(f"\n## Latency, {name}: {len(latencies)} publications, states {states}, load {load}\n")
    print("| | p50 | p90 | p99 | max | mean |\n|---|---|---|---|---|---|")
    for row, shift in (
        ("202 -> published (ms)", 0.0),
        (f"overhead = minus {emulator_ms:g} ms (ms)", emulator_ms),
    ):
        values = [v - shift for v in latencies]
        cells = [stack.percentile(values, q) for q in (0.5, 0.9, 0.99)] + [
            max(values),
            statistics.mean(values),
        ]
        print(f"| {row} | " + " | ".join(f"{v:.1f}" for v in cells) + " |")
    p99 = stack.percentile(latencies, 0.99) - emulator_ms
    verdict = "MET" if p99 < GOAL_P99_MS else "NOT MET"
    print(f"\n{name}: p99 overhead < {GOAL_P99_MS:g} ms ({p99:.1f} ms): {verdict}")


if __name__ == "__main__":
    with stack.processes() as running:
        asyncio.run(main(parse_args(), running))
