"""What a failed publish attempt leads to (pipeline.policy.decide_failure): no database, no Redis."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import pytest

from channels.base import (
    AccountMisconfiguredError,
    AuthExpiredError,
    ChannelError,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from syndicator.pipeline.policy import RETRIES_EXHAUSTED, Decision, decide_failure
from tests.fakes import FixedClock


@dataclass
class Limits:
    publish_max_attempts: int = 4
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 60.0


CLOCK = FixedClock()


def decide(attempts: int, exc: ChannelError, *, seed: int = 1) -> Decision:
    return decide_failure(attempts, exc, Limits(), now=CLOCK.now(), rng=random.Random(seed))


def test_a_transient_error_is_retried_after_a_backoff_that_grows_per_attempt() -> None:
    for attempts in range(3):
        decision = decide(attempts, TransientError("502"))
        ceiling = min(60.0, 2.0 * 2**attempts)
        assert decision.attempts == attempts + 1 and not decision.dead and not decision.read_back
        assert decision.delay is not None and ceiling / 2 <= decision.delay <= ceiling
        assert decision.next_attempt_at == CLOCK.now() + timedelta(seconds=decision.delay)


def test_the_backoff_is_capped() -> None:
    decision = decide_failure(
        10, TransientError("502"), Limits(publish_max_attempts=99), now=CLOCK.now(), rng=random.Random(3)
    )
    assert decision.delay is not None and decision.delay <= 60.0


def test_a_quota_answer_defers_to_the_reset_without_using_an_attempt() -> None:
    decision = decide(3, RateLimitedError("quota", retry_after=900))
    assert (decision.attempts, decision.delay, decision.dead) == (3, 900, False)
    assert decision.next_attempt_at == CLOCK.now() + timedelta(seconds=900)


def test_a_reset_already_past_means_go_again_now() -> None:
    assert decide(0, RateLimitedError("quota", retry_after=-5)).delay == 0.0


@pytest.mark.parametrize(
    "exc", [PermanentError("content refused", code="40001"), AccountMisconfiguredError("no app id")]
)
def test_a_permanent_refusal_is_a_dead_letter_at_once_with_the_platforms_code(exc: PermanentError) -> None:
    decision = decide(0, exc)
    assert decision.dead and decision.next_attempt_at is None
    assert (decision.attempts, decision.code, decision.message) == (0, exc.code, str(exc))


def test_the_last_attempt_is_a_dead_letter_that_says_how_many_were_made() -> None:
    decision = decide(3, TransientError("timeout"))
    assert decision.dead and decision.code == RETRIES_EXHAUSTED and decision.attempts == 4
    assert decision.message == "gave up after 4 attempts; last error: timeout"


def test_an_unknown_outcome_is_retried_reading_back_first() -> None:
    decision = decide(0, OutcomeUnknownError("connection reset after the request was sent"))
    assert decision.read_back and not decision.dead and decision.attempts == 1


def test_an_unknown_outcome_on_the_last_attempt_is_a_dead_letter_too() -> None:
    assert decide(3, OutcomeUnknownError("reset")).dead


def test_an_expired_token_that_was_refreshed_is_tried_again_at_once() -> None:
    decision = decide(1, AuthExpiredError("token expired"))
    assert (decision.delay, decision.attempts, decision.next_attempt_at) == (0.0, 2, CLOCK.now())
