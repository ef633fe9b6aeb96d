"""The publication state machine: every allowed transition, its audit action and its side effects.

Pure (stdlib only, see tests/unit/test_publication_state.py): `records.mark` is the one writer of
`Publication.state` and asks `transition` first, so a state no path declares can never be written.
An effect is what the caller must do once the transition is committed; the pipeline code that runs
it names the effect, so "who enqueues the poll?" has one answer here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PublicationState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    FAILED = "failed"
    WITHDRAWING = "withdrawing"  # the article was withdrawn; the post is being removed
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class Effect(StrEnum):
    ENQUEUE_PUBLISH = "enqueue publish"  # the publish job (re)runs: a new job, or arq's Retry
    ENQUEUE_POLL = "enqueue poll"  # an asynchronous publish is followed until the platform finishes
    ENQUEUE_WITHDRAW = "enqueue withdraw"  # the post is removed from the platform
    ALERT = "alert"  # the moderators' chat is told (jobs.fail)
    FULFIL_OBLIGATIONS = "fulfil obligations"  # a repost of upstream policy meets its deadline
    SUPERSEDE_PREVIOUS = "supersede previous"  # a correction: the older post this account showed


class IllegalTransitionError(Exception):
    """A state change no path of the pipeline declares: a bug, never a platform's answer."""

    def __init__(self, source: str, target: str) -> None:
        super().__init__(f"publication cannot go from {source} to {target}")
        self.source = source
        self.target = target


@dataclass(frozen=True)
class Transition:
    source: PublicationState
    target: PublicationState
    action: str  # the audit event's action
    effects: tuple[Effect, ...] = ()


S = PublicationState
E = Effect
_TABLE = (
    # claim: intent recorded before any platform call; SENDING again means "read back first".
    Transition(S.PENDING, S.SENDING, "publication.sending"),
    Transition(S.SENDING, S.SENDING, "publication.sending"),
    # the operator's retry of a dead letter; SENDING when the platform may have the post (read back)
    Transition(S.FAILED, S.PENDING, "publication.retried", (E.ENQUEUE_PUBLISH,)),
    Transition(S.FAILED, S.SENDING, "publication.retried", (E.ENQUEUE_PUBLISH,)),
    # a platform that said "not done": sent again after the backoff
    Transition(S.SENDING, S.PENDING, "publication.retry_scheduled", (E.ENQUEUE_PUBLISH,)),
    Transition(S.SENDING, S.SUBMITTED, "publication.submitted", (E.ENQUEUE_POLL, E.SUPERSEDE_PREVIOUS)),
    Transition(S.SENDING, S.PUBLISHED, "publication.published", (E.FULFIL_OBLIGATIONS, E.SUPERSEDE_PREVIOUS)),
    Transition(S.SUBMITTED, S.PUBLISHED, "publication.published", (E.FULFIL_OBLIGATIONS,)),
    # dead letters: permanent refusals, retries exhausted, never completed, stalled
    Transition(S.PENDING, S.FAILED, "publication.failed", (E.ALERT,)),
    Transition(S.SENDING, S.FAILED, "publication.failed", (E.ALERT,)),
    Transition(S.SUBMITTED, S.FAILED, "publication.failed", (E.ALERT,)),
    # an asynchronous publish being withdrawn failed on the platform: nothing is live, nobody to tell,
    # unless it stalled (the reconciler's escalation alerts for its own reason)
    Transition(S.WITHDRAWING, S.FAILED, "publication.failed"),
    # claim's skips: a newer version, or the article withdrawn, before this one was sent
    Transition(S.PENDING, S.SUPERSEDED, "publication.superseded"),
    Transition(S.PENDING, S.WITHDRAWN, "publication.withdrawn"),
    Transition(S.SENDING, S.WITHDRAWN, "publication.withdrawn"),
    Transition(S.PUBLISHED, S.SUPERSEDED, "publication.superseded"),
    # withdrawal: requested, or a post that went live after the request (or that the audit found)
    Transition(S.PUBLISHED, S.WITHDRAWING, "publication.withdrawing", (E.ENQUEUE_WITHDRAW,)),
    Transition(S.SUBMITTED, S.WITHDRAWING, "publication.withdrawing", (E.ENQUEUE_WITHDRAW,)),
    Transition(S.WITHDRAWN, S.WITHDRAWING, "publication.withdrawing", (E.ENQUEUE_WITHDRAW,)),
    # the asynchronous publish being withdrawn completed (its article_id is recorded, state unchanged)
    Transition(S.WITHDRAWING, S.WITHDRAWING, "publication.published"),
    Transition(S.WITHDRAWING, S.WITHDRAWN, "publication.withdrawn"),
    # the platform cannot (or would not) delete it: the post stays live, a person removes it
    Transition(S.WITHDRAWING, S.PUBLISHED, "publication.withdraw_failed"),
    # the consistency fix: a drifted post is sent again as a new post (consistency._resend)
    Transition(S.PUBLISHED, S.PENDING, "publication.resync", (E.ENQUEUE_PUBLISH,)),
)
TRANSITIONS: dict[tuple[str, str], Transition] = {(t.source, t.target): t for t in _TABLE}


def transition(source: str, target: str) -> Transition:
    """The declared transition from `source` to `target`; IllegalTransitionError when there is none."""
    try:
        return TRANSITIONS[(source, target)]
    except KeyError:
        raise IllegalTransitionError(source, target) from None
