"""Pure retry policy: how long to wait before the next attempt."""

from __future__ import annotations

import random

# Publications the pipeline still owes an answer for; the reconciler watches these.
IN_FLIGHT_STATES = ("pending", "sending", "submitted", "withdrawing")
TERMINAL_STATES = ("published", "failed", "withdrawn", "superseded")
# Failure codes of our own (platforms' codes are kept as they answer).
INTERNAL_ERROR = "internal_error"  # an unexpected exception; the message names its class
STALLED = "stalled"  # re-enqueued pass after pass by the reconciler without a state change


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter in [delay/2, delay]: retries from many workers spread out."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay * (0.5 + 0.5 * (rng or random).random())
