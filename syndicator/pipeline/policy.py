"""Pure retry policy: what a failed publish attempt leads to, and how long to wait before the next.

No database, Redis or clock: `jobs` applies the decision (tests/unit/test_failure_policy.py decides
retries, quota deferral, dead letters and read-backs in milliseconds).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from channels.base import (
    AuthExpiredError,
    ChannelError,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
)

# Publications the pipeline still owes an answer for; the reconciler watches these.
IN_FLIGHT_STATES = ("pending", "sending", "submitted", "withdrawing")
TERMINAL_STATES = ("published", "failed", "withdrawn", "superseded")
# Failure codes of our own (platforms' codes are kept as they answer).
INTERNAL_ERROR = "internal_error"  # an unexpected exception; the message names its class
STALLED = "stalled"  # re-enqueued pass after pass by the reconciler without a state change
RETRIES_EXHAUSTED = "retries_exhausted"


class RetrySettings(Protocol):
    # Read-only members, so that the frozen RetryLimits matches as well as Settings.
    @property
    def publish_max_attempts(self) -> int: ...
    @property
    def retry_base_seconds(self) -> float: ...
    @property
    def retry_cap_seconds(self) -> float: ...


@dataclass(frozen=True)
class RetryLimits:
    """RetrySettings for a job that is not a publish (moderation.jobs.apply_decision)."""

    publish_max_attempts: int
    retry_base_seconds: float
    retry_cap_seconds: float


@dataclass(frozen=True)
class Decision:
    """What one failed attempt leads to."""

    attempts: int  # the publication's attempt count after this failure
    delay: float | None  # seconds until the next attempt; None: a dead letter
    next_attempt_at: datetime | None  # `now` plus the delay
    # The platform may have the post ("maybe done"): the next attempt reads back before sending.
    read_back: bool = False
    code: str | None = None  # the dead letter's code and message
    message: str = ""

    @property
    def dead(self) -> bool:
        return self.delay is None


def decide_failure(
    attempts: int,
    exc: ChannelError,
    settings: RetrySettings,
    *,
    now: datetime,
    rng: random.Random | None = None,
) -> Decision:
    """`attempts` made before this one failed with `exc` at `now`: retry (and when), or give up."""
    if isinstance(exc, PermanentError):
        return Decision(attempts, None, None, code=exc.code, message=str(exc))
    if isinstance(exc, RateLimitedError):
        return _retry(attempts, max(exc.retry_after, 0.0), now)  # quota waits do not use up attempts
    attempts += 1
    if attempts >= settings.publish_max_attempts:
        message = f"gave up after {attempts} attempts; last error: {exc}"
        return Decision(attempts, None, None, code=RETRIES_EXHAUSTED, message=message)
    read_back = isinstance(exc, OutcomeUnknownError)
    if isinstance(exc, AuthExpiredError):
        return _retry(attempts, 0.0, now)  # the credential was just refreshed: go again now
    delay = backoff_seconds(
        attempts, base=settings.retry_base_seconds, cap=settings.retry_cap_seconds, rng=rng
    )
    return _retry(attempts, delay, now, read_back=read_back)


def _retry(attempts: int, delay: float, now: datetime, *, read_back: bool = False) -> Decision:
    return Decision(attempts, delay, now + timedelta(seconds=delay), read_back)


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter in [delay/2, delay]: retries from many workers spread out."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay * (0.5 + 0.5 * (rng or random).random())
