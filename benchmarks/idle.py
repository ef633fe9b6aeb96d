"""An idle worker's CPU (issue 16 goal 3): the woken worker against arq's 10 ms poll, same run.

    .venv/bin/python -m benchmarks.idle                 # 60 s, both workers side by side
    .venv/bin/python -m benchmarks.idle --seconds 20

Both are real worker processes on the benchmark database and Redis with an empty queue: `syndicator
worker` as shipped (asleep until an enqueue or a due job wakes it, `SYNDICATOR_WORKER_POLL_DELAY_SECONDS`
at most between looks), and the same job set in a plain `arq.Worker` with `poll_delay` 0.01 s (what
the worker was before). CPU is user + system time from /proc over the same window, after startup.
The p99 ingest -> published overhead is `benchmarks.latency` (run it after this).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from benchmarks import config as c
from benchmarks import stack

GOAL_CORE_SHARE = 0.01
OLD_POLL_DELAY_SECONDS = 0.01
SETTLE_SECONDS = 5.0  # startup: imports done, the reconciler's run_at_startup cron finished


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window (default 60)")
    parser.add_argument("--polling-worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def run_polling_worker() -> None:
    """The worker as it was: arq's own loop, looking at the queue every 10 ms."""
    from arq import Worker

    from syndicator.config import get_settings
    from syndicator.log import configure_logging
    from syndicator.resilience import run_worker_forever
    from syndicator.worker import worker_settings

    configure_logging()
    options = worker_settings(get_settings())
    del options["idle_poll_seconds"]
    asyncio.run(run_worker_forever(lambda: Worker(**{**options, "poll_delay": OLD_POLL_DELAY_SECONDS})))


async def main(args: argparse.Namespace, procs: stack.Processes) -> None:
    print(f"machine: {stack.machine()}; logs in {procs.log_dir}", flush=True)
    await stack.fresh_database()
    await stack.flush_queue()
    workers = {
        "woken (shipped)": procs.start("worker-woken", [str(c.SYNDICATOR), "worker"], stack.pipeline_env()),
        f"arq poll {OLD_POLL_DELAY_SECONDS * 1000:g} ms (before)": procs.start(
            "worker-polling",
            [str(c.PYTHON), "-m", "benchmarks.idle", "--polling-worker"],
            stack.pipeline_env(),
        ),
    }
    for proc in workers.values():
        await stack.wait_log(proc, "Starting worker")
    await asyncio.sleep(SETTLE_SECONDS)
    before = {name: proc.cpu_seconds() for name, proc in workers.items()}
    started = time.monotonic()
    await asyncio.sleep(args.seconds)
    wall = time.monotonic() - started
    shares = {name: (proc.cpu_seconds() - before[name]) / wall for name, proc in workers.items()}
    report(shares, wall)


def report(shares: dict[str, float], wall: float) -> None:
    print(f"\n## Idle worker CPU over {wall:.0f} s (load {stack.machine()['load']})\n")
    print("| worker | CPU % of one core |\n|---|---|")
    for name, share in shares.items():
        print(f"| {name} | {share * 100:.2f} |")
    woken, polling = shares.values()
    print(f"\nratio woken / polling: {woken / polling:.3f}" if polling else "\npolling worker used no CPU")
    verdict = "MET" if woken < GOAL_CORE_SHARE else "NOT MET"
    print(f"goal 3 idle worker < {GOAL_CORE_SHARE * 100:g} % of a core ({woken * 100:.2f} %): {verdict}")


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.polling_worker:
        run_polling_worker()
        sys.exit(0)
    with stack.processes() as running:
        asyncio.run(main(arguments, running))
