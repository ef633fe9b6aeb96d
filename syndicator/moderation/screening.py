"""The seam to the comment screening of syndicator/checks/comments.py (same dictionary as articles)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, Protocol


class Finding(Protocol):
    rule: str
    severity: str
    message: str


class Screening(Protocol):
    # Read-only members, so that frozen dataclasses (checks.comments.CommentScreening) match.
    @property
    def findings(self) -> Iterable[Any]: ...
    @property
    def masked_text(self) -> str: ...
    @property
    def auto_reject(self) -> bool: ...
    @property
    def kinds(self) -> set[str]: ...


class Screener(Protocol):
    def __call__(self, text: str, *, wording: Any = None) -> Screening: ...


def default_screener() -> Screener:
    """The shared screening; imported late so this package loads even where checks are absent."""
    from syndicator.checks.comments import screen_comment

    return screen_comment


def findings_as_dicts(findings: Iterable[Any]) -> list[dict[str, Any]]:
    """JSON-ready findings (rule, severity, message, matched, position) for Comment.screening."""
    out: list[dict[str, Any]] = []
    for finding in findings:
        if dataclasses.is_dataclass(finding):  # shallow: asdict's deep copy cost a third of intake
            raw = {name: getattr(finding, name) for name in _field_names(finding)}
        else:
            raw = dict(vars(finding))
        out.append({k: _plain(v) for k, v in raw.items()})
    return out


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(finding: Any) -> tuple[str, ...]:
    """A dataclass's field names, looked up once per class (`fields()` rebuilds a tuple each call)."""
    kind = type(finding)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(finding))
    return names


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)
