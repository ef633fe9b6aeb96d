"""Fan-out throughput, CPU and worker memory (goals 1, 3) and the scale curve (goal 4).

    .venv/bin/python -m benchmarks.fanout                 # N=1000, workers 1,2,4, latency 100 and 0 ms
    .venv/bin/python -m benchmarks.fanout --quick         # N=100 smoke run
    .venv/bin/python -m benchmarks.fanout --scale         # also 100 -> 1,000 -> 10,000 on a growing DB
    .venv/bin/python -m benchmarks.fanout --scale-only --scale-sizes 100,1000 --scale-workers 1,2

N articles x 3 channels (app, WeChat, Weibo emulators, each its own process) go through the signed
ingest API -> Redis -> `syndicator worker` processes -> PostgreSQL. Each pipeline run is paired with
a raw-aiohttp baseline making the same platform calls at the same concurrency (workers x max_jobs)
against freshly started emulators, so every figure is a ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from benchmarks import stack
from benchmarks.config import PLATFORMS
from benchmarks.runner import COMPARISON_HEADER, Comparison, compare, comparison_row, run_pipeline, save
from syndicator.demo.stack import derived_articles


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1000, help="articles per run (default 1000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 articles")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts (default 1,2,4)")
    parser.add_argument("--latencies", default="100,0", help="emulator latency per call, ms (default 100,0)")
    parser.add_argument("--scale", action="store_true", help="add the 100/1,000/10,000 scale curve (long)")
    parser.add_argument("--scale-only", action="store_true", help="only the scale curve")
    parser.add_argument("--scale-sizes", default="100,1000,10000", help="default 100,1000,10000")
    parser.add_argument(
        "--scale-workers", default="1,2", help="worker counts, each over all sizes (default 1,2)"
    )
    parser.add_argument("--scale-latency", type=float, default=0.0)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the API and workers (raw stacks in logs)"
    )
    return parser.parse_args()


async def fanout_matrix(
    procs: stack.Processes, emulators: stack.Emulators, args: argparse.Namespace
) -> list[Comparison]:
    count = 100 if args.quick else args.articles
    results = []
    for latency in [float(x) for x in args.latencies.split(",")]:
        for workers in [int(x) for x in args.workers.split(",")]:
            tag = f"f{int(time.time() * 1000) % 10**9}"
            articles = derived_articles(count, tag)
            results.append(
                await compare(
                    procs,
                    emulators,
                    articles,
                    platforms=PLATFORMS,
                    workers=workers,
                    latency_ms=latency,
                    tag=tag,
                    profile=args.profile,
                )
            )
    return results


async def scale_curve(
    procs: stack.Processes, emulators: stack.Emulators, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """The same run at growing sizes on one database that keeps every earlier run's rows."""
    await fresh_stack(emulators)
    rows = []
    for workers in [int(x) for x in args.scale_workers.split(",")]:
        for size in [int(x) for x in args.scale_sizes.split(",")]:
            tag = f"s{size}-{workers}-{int(time.time()) % 10**6}"
            print(
                f"- scale: {size} articles, {workers} worker(s), latency {args.scale_latency:g} ms",
                flush=True,
            )
            result = await run_pipeline(
                procs,
                emulators,
                derived_articles(size, tag),
                platforms=PLATFORMS,
                workers=workers,
                latency_ms=args.scale_latency,
                keep_completions=True,
            )
            deciles = _deciles(result.completions)
            db_mb = await stack.database_mb()
            rows.append(
                {
                    "articles": size,
                    "workers": workers,
                    "result": result,
                    "decile_throughput": deciles,
                    "db_mb": db_mb,
                }
            )
            print(
                f"  {result.throughput:.1f} pub/s, database {db_mb:.0f} MB; per decile: "
                f"{', '.join(f'{d:.0f}' for d in deciles)}",
                flush=True,
            )
    return rows


def _deciles(completions: list[float]) -> list[float]:
    """Throughput of each tenth of the publications, from their completion times."""
    if len(completions) < 20:
        return []
    step, rates, previous = len(completions) // 10, [], 0.0
    for index in range(1, 11):
        end = completions[min(len(completions) - 1, index * step - 1)]
        rates.append(step / max(end - previous, 1e-6))
        previous = end
    return rates


async def fresh_stack(emulators: stack.Emulators) -> None:
    await stack.fresh_database()
    await stack.flush_queue()
    await stack.seed(stack.corpus_units(), emulators)


def report_matrix(results: list[Comparison]) -> None:
    print("\n## Fan-out (goals 1, 3)\n")
    print(COMPARISON_HEADER)
    for item in results:
        print(comparison_row(item))
    latent = [r for r in results if r.latency_ms > 0]
    idle = [r for r in results if r.latency_ms == 0]
    slow = [r for r in latent if (r.throughput_ratio or 0) < 0.8]
    costly = [r for r in idle if (r.cpu_ratio or 0) > 3]
    rss = max((max(r.pipeline.worker_rss_mb) for r in results), default=0.0)
    print(f"\ngoal 1 throughput >= 0.8 x baseline at latency: {_verdict(latent, slow)}")
    print(f"goal 1 CPU <= 3 x baseline (no latency): {_verdict(idle, costly)}")
    print(f"goal 3 worker RSS < 150 MB (max {rss:.0f} MB): {'MET' if rss < 150 else 'NOT MET'}")


def _verdict(measured: list[Comparison], failed: list[Comparison]) -> str:
    if not measured:
        return "not measured"
    return "NOT MET" if failed else "MET"


def report_scale(rows: list[dict[str, Any]]) -> None:
    print("\n## Scale of cost (goal 4)\n")
    print(
        "| workers | articles | pubs | published | DB MB after | seconds | pub/s "
        "| CPU ms/pub (API + workers) | worker CPU ms/pub | DB xact/pub | per-decile pub/s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    for row in rows:
        r = row["result"]
        deciles = " ".join(f"{d:.0f}" for d in row["decile_throughput"])
        worker_ms, xact = r.cpu_workers * 1000 / r.publications, r.db_transactions / r.publications
        print(
            f"| {row['workers']} | {row['articles']} | {r.publications} | {r.published} | "
            f"{row['db_mb']:.0f} | {r.seconds:.1f} | {r.throughput:.1f} | {r.cpu_ms_per_publication:.2f} | "
            f"{worker_ms:.2f} | {xact:.1f} | {deciles} |"
        )


async def main(args: argparse.Namespace, procs: stack.Processes) -> None:
    print(f"machine: {stack.machine()}; logs in {procs.log_dir}", flush=True)
    emulators = stack.Emulators(procs)
    payload: dict[str, Any] = {"machine": stack.machine()}
    if not args.scale_only:
        await fresh_stack(emulators)
        payload["fanout"] = await fanout_matrix(procs, emulators, args)
        report_matrix(payload["fanout"])
    if args.scale or args.scale_only:
        payload["scale"] = await scale_curve(procs, emulators, args)
        report_scale(payload["scale"])
    print(f"\nraw results: {save('fanout', procs, payload)}")


if __name__ == "__main__":
    with stack.processes() as running:
        asyncio.run(main(parse_args(), running))
