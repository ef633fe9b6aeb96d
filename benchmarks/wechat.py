"""WeChat only (goal 5): many articles to one WeChat account, queue vs raw aiohttp.

    .venv/bin/python -m benchmarks.wechat               # 500 articles, 1 worker, latency 100 and 0 ms
    .venv/bin/python -m benchmarks.wechat --quick       # 100 articles

Through the pipeline each article is stable_token (once, shared in Redis), add_material (thumb),
draft/add, freepublish/submit, then deferred freepublish/get polls. The baseline makes the same
calls with raw aiohttp at the same concurrency (workers x max_jobs). Token fetches are read from
the emulator's /_emulator/state after the pipeline run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from benchmarks import stack
from benchmarks.runner import COMPARISON_HEADER, Comparison, comparison_row, run_pipeline, run_raw, save
from syndicator.demo.stack import UnitSpec, derived_articles

UNIT = UnitSpec("基准测试微信单位", "city", "bench.gov.cn", ("wechat",))
PLATFORMS = ("wechat",)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="100 articles")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--latencies", default="100,0", help="emulator latency per call, ms (default 100,0)")
    return parser.parse_args()


async def one_latency(
    procs: stack.Processes, emulators: stack.Emulators, count: int, workers: int, latency: float
) -> Comparison:
    tag = f"w{int(time.time() * 1000) % 10**9}"
    articles = derived_articles(count, tag, unit=UNIT.name)
    print(
        f"- {count} articles to one WeChat account, {workers} worker(s), latency {latency:g} ms", flush=True
    )
    token_calls: dict[str, Any] = {}

    async def read_tokens() -> None:
        token_calls.update((await emulators.wechat_state())["token_calls"])

    result = await run_pipeline(
        procs, emulators, articles, platforms=PLATFORMS, workers=workers, latency_ms=latency,
        before_stop=read_tokens,
    )  # fmt: skip
    baseline, emulator_cpu = await run_raw(
        emulators, articles, platforms=PLATFORMS, workers=workers, latency_ms=latency, tag=tag
    )
    comparison = Comparison(f"wechat {latency:g} ms", workers, latency, result, baseline, emulator_cpu)
    comparison.extra["token_calls"] = token_calls
    print(f"  ratio {comparison.throughput_ratio:.2f}, token calls {token_calls}", flush=True)
    return comparison


def report(results: list[Comparison]) -> None:
    print("\n## WeChat only (goal 5)\n")
    print(COMPARISON_HEADER)
    for item in results:
        print(comparison_row(item))
    for item in results:
        fetches = sum(item.extra["token_calls"].values())
        print(f"latency {item.latency_ms:g} ms: token fetches {fetches} ({item.extra['token_calls']})")
    slow = [r for r in results if r.latency_ms > 0 and (r.throughput_ratio or 0) < 0.8]
    many = [r for r in results if sum(r.extra["token_calls"].values()) != 1]
    print(f"\ngoal 5 throughput >= 0.8 x baseline at latency: {'MET' if not slow else 'NOT MET'}")
    print(f"goal 5 one token fetch per run: {'MET' if not many else 'NOT MET'}")


async def main(args: argparse.Namespace, procs: stack.Processes) -> None:
    count = 100 if args.quick else args.articles
    print(f"machine: {stack.machine()}; logs in {procs.log_dir}", flush=True)
    emulators = stack.Emulators(procs)
    await stack.fresh_database()
    await stack.flush_queue()
    await stack.seed([UNIT], emulators)
    results = [
        await one_latency(procs, emulators, count, args.workers, float(latency))
        for latency in args.latencies.split(",")
    ]
    report(results)
    print(f"\nraw results: {save('wechat', procs, {'machine': stack.machine(), 'wechat': results})}")


if __name__ == "__main__":
    with stack.processes() as running:
        asyncio.run(main(parse_args(), running))
