import random

from syndicator.pipeline.policy import backoff_seconds


def test_backoff_grows_exponentially_within_jitter_and_cap() -> None:
    rng = random.Random(7)
    delays = [backoff_seconds(n, base=2, cap=60, rng=rng) for n in range(1, 8)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(60, 2 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
