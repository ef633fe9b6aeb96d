"""The publication state machine, pair by pair: declared moves give their audit action and effects,
every other move raises. Also: the module stays pure, and nothing else writes the state."""

from __future__ import annotations

import ast
import itertools
import sys
from pathlib import Path
from typing import cast

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

import syndicator
from syndicator.models import AuditEvent, Publication
from syndicator.pipeline import records
from syndicator.pipeline import state as state_module
from syndicator.pipeline.state import TRANSITIONS, Effect, IllegalTransitionError, PublicationState

S = PublicationState
# The expected table, written out again on purpose: a change to the machine changes this test too.
EXPECTED: dict[tuple[S, S], tuple[str, set[Effect]]] = {
    (S.PENDING, S.SENDING): ("publication.sending", set()),
    (S.SENDING, S.SENDING): ("publication.sending", set()),
    (S.FAILED, S.PENDING): ("publication.retried", {Effect.ENQUEUE_PUBLISH}),
    (S.FAILED, S.SENDING): ("publication.retried", {Effect.ENQUEUE_PUBLISH}),
    (S.SENDING, S.PENDING): ("publication.retry_scheduled", {Effect.ENQUEUE_PUBLISH}),
    (S.SENDING, S.SUBMITTED): ("publication.submitted", {Effect.ENQUEUE_POLL, Effect.SUPERSEDE_PREVIOUS}),
    (S.SENDING, S.PUBLISHED): (
        "publication.published",
        {Effect.FULFIL_OBLIGATIONS, Effect.SUPERSEDE_PREVIOUS},
    ),
    (S.SUBMITTED, S.PUBLISHED): ("publication.published", {Effect.FULFIL_OBLIGATIONS}),
    (S.PENDING, S.FAILED): ("publication.failed", {Effect.ALERT}),
    (S.SENDING, S.FAILED): ("publication.failed", {Effect.ALERT}),
    (S.SUBMITTED, S.FAILED): ("publication.failed", {Effect.ALERT}),
    (S.WITHDRAWING, S.FAILED): ("publication.failed", set()),
    (S.PENDING, S.SUPERSEDED): ("publication.superseded", set()),
    (S.PENDING, S.WITHDRAWN): ("publication.withdrawn", set()),
    (S.SENDING, S.WITHDRAWN): ("publication.withdrawn", set()),
    (S.PUBLISHED, S.SUPERSEDED): ("publication.superseded", set()),
    (S.PUBLISHED, S.WITHDRAWING): ("publication.withdrawing", {Effect.ENQUEUE_WITHDRAW}),
    (S.SUBMITTED, S.WITHDRAWING): ("publication.withdrawing", {Effect.ENQUEUE_WITHDRAW}),
    (S.WITHDRAWN, S.WITHDRAWING): ("publication.withdrawing", {Effect.ENQUEUE_WITHDRAW}),
    (S.WITHDRAWING, S.WITHDRAWING): ("publication.published", set()),
    (S.WITHDRAWING, S.WITHDRAWN): ("publication.withdrawn", set()),
    (S.WITHDRAWING, S.PUBLISHED): ("publication.withdraw_failed", set()),
    (S.PUBLISHED, S.PENDING): ("publication.resync", {Effect.ENQUEUE_PUBLISH}),
}
ALL_PAIRS = list(itertools.product(PublicationState, repeat=2))


class RecordingSession:
    """Enough of a session for records.mark: it only adds the audit event."""

    def __init__(self) -> None:
        self.added: list[AuditEvent] = []

    def add(self, event: AuditEvent) -> None:
        self.added.append(event)


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_pair_is_declared_with_its_event_or_raises(source: S, target: S) -> None:
    publication = Publication(id=7, article_id=1, version_id=1, account_id=1, state=source)
    session = RecordingSession()
    if (source, target) not in EXPECTED:
        with pytest.raises(IllegalTransitionError) as raised:
            records.mark(cast(AsyncSession, session), publication, target)
        assert (raised.value.source, raised.value.target) == (source, target)
        assert publication.state == source and session.added == []
        return
    move = records.mark(cast(AsyncSession, session), publication, target, code="c")
    action, effects = EXPECTED[(source, target)]
    assert (move.source, move.target, move.action, set(move.effects)) == (source, target, action, effects)
    (event,) = session.added
    assert (publication.state, event.action, event.object_id, event.detail["code"]) == (
        target,
        action,
        "7",
        "c",
    )


def test_the_table_declares_nothing_the_test_does_not_know() -> None:
    assert set(TRANSITIONS) == set(EXPECTED)


def test_terminal_states_are_left_only_by_an_operator_or_the_audit() -> None:
    """superseded is final; failed only by a retry; withdrawn only by the consistency fix."""
    leaving = {(a, b) for a, b in TRANSITIONS if a != b}
    assert not {pair for pair in leaving if pair[0] == S.SUPERSEDED}
    assert {b for a, b in leaving if a == S.FAILED} == {S.PENDING, S.SENDING}
    assert {b for a, b in leaving if a == S.WITHDRAWN} == {S.WITHDRAWING}


def test_the_state_machine_is_pure() -> None:
    tree = ast.parse(Path(state_module.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] in sys.stdlib_module_names, node.module
        if isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] in sys.stdlib_module_names for a in node.names)


# The other aggregates with a `state` of their own; any other `<x>.state = ...` is a publication's.
OTHER_STATEFUL = {"article", "obligation", "comment", "notification", "intake"}


def test_only_records_mark_writes_a_publication_state() -> None:
    """Anywhere else, `publication.state = ...` or `update(Publication).values(state=...)` would
    bypass the table."""
    root = Path(syndicator.__file__).parent
    writers = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if _writes_state(node) or _bulk_writes_publication_state(node):
                writers.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}")
    assert writers == [f"pipeline/records.py:{_mark_assignment_line()}"]


def _writes_state(node: ast.AST) -> bool:
    if not isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return any(
        isinstance(t, ast.Attribute)
        and t.attr == "state"
        and not (isinstance(t.value, ast.Name) and t.value.id in OTHER_STATEFUL)
        for t in targets
    )


def _bulk_writes_publication_state(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and any(k.arg == "state" for k in node.keywords)):
        return False
    return "update(Publication)" in ast.unparse(node.func)


def _mark_assignment_line() -> int:
    lines = Path(records.__file__).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if "publication.state = move.target" in line)
