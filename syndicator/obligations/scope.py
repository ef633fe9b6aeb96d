"""The unit tree and officers' scope: a unit and all its subordinates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.models import Role, Unit, User


class ScopeError(Exception):
    """The caller asked for units outside their scope."""


class UnknownUnitError(ScopeError):
    """No such unit."""


class OutOfScopeError(ScopeError):
    """The unit exists but is outside the caller's scope: the API answers it like a missing one."""


@dataclass(frozen=True)
class UnitInfo:
    id: int
    name: str
    level: str
    parent_id: int | None


@dataclass(frozen=True)
class UnitTree:
    units: dict[int, UnitInfo]
    children: dict[int | None, list[int]] = field(default_factory=dict)

    def descendants(self, unit_id: int, *, include_self: bool = True) -> list[int]:
        found = [unit_id] if include_self else []
        stack = list(self.children.get(unit_id, []))
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.children.get(current, []))
        return found

    def contains(self, ancestor_id: int, unit_id: int) -> bool:
        current: int | None = unit_id
        for _ in range(len(self.units) + 1):  # guards against a cycle in bad data
            if current is None:
                return False
            if current == ancestor_id:
                return True
            current = self.units[current].parent_id if current in self.units else None
        return False

    def by_name(self, name: str) -> UnitInfo:
        for unit in self.units.values():
            if unit.name == name:
                return unit
        raise UnknownUnitError(f"unknown unit {name!r}")


async def load_tree(session: AsyncSession) -> UnitTree:
    rows = (await session.exec(select(Unit.id, Unit.name, Unit.level, Unit.parent_id))).all()
    units = {r[0]: UnitInfo(r[0], r[1], r[2], r[3]) for r in rows if r[0] is not None}
    children: dict[int | None, list[int]] = defaultdict(list)
    for unit in units.values():
        children[unit.parent_id].append(unit.id)
    return UnitTree(units, dict(children))


async def unit_id_for(session: AsyncSession, ref: str | None) -> int | None:
    """A unit given by id or by name (UnknownUnitError for an unknown name)."""
    if ref is None or not ref.strip():
        return None
    if ref.strip().isdigit():
        return int(ref)
    return (await load_tree(session)).by_name(ref.strip()).id


def is_officer(user: User) -> bool:
    return bool(user.role_set & {Role.OFFICER, Role.ADMIN})


def scope_units(tree: UnitTree, *, user_scope: int | None, requested: int | None) -> list[int] | None:
    """Unit ids the report covers (None: every unit). An officer's scope bounds any request."""
    if requested is not None and requested not in tree.units:
        raise UnknownUnitError(f"unknown unit id {requested}")
    if user_scope is not None:
        if requested is not None and not tree.contains(user_scope, requested):
            raise OutOfScopeError("this unit is outside your scope")
        return tree.descendants(requested if requested is not None else user_scope)
    return None if requested is None else tree.descendants(requested)


def check_in_scope(tree: UnitTree, user: User, unit_id: int) -> None:
    if not is_officer(user):
        raise ScopeError("this needs the officer or admin role")
    if user.scope_unit_id is not None and not tree.contains(user.scope_unit_id, unit_id):
        raise OutOfScopeError("this unit is outside your scope")
