"""Every route that returns or changes unit data sees only the caller's scope (issue 12, finding 9).

A user with a scope unit (`users add … --scope UNIT`) sees that unit and its subordinates, on
every route, whatever their roles; an object outside answers 404, exactly like a missing one, so
ids cannot be probed. Users without a scope unit see everything.
"""

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.api.deps import StateDep, require_roles
from syndicator.models import Article, User
from syndicator.obligations.scope import load_tree


@dataclass(frozen=True)
class CallerScope:
    user: User
    unit_ids: frozenset[int] | None  # None: every unit

    def allows(self, unit_id: int | None) -> bool:
        return self.unit_ids is None or unit_id in self.unit_ids

    def condition(self, unit_column: Any) -> ColumnElement[bool] | None:
        """A WHERE clause restricting `unit_column` to the scope (None: no restriction)."""
        return None if self.unit_ids is None else col(unit_column).in_(sorted(self.unit_ids))

    def require(self, unit_id: int | None, missing: str) -> None:
        """A missing object (no unit) and one out of scope both read as not found."""
        if unit_id is None or not self.allows(unit_id):
            raise HTTPException(404, detail=missing)

    async def article_unit(self, session: AsyncSession, article_id: int) -> int | None:
        return (await session.exec(select(Article.unit_id).where(Article.id == article_id))).first()

    async def visible_articles(self, session: AsyncSession, article_ids: Iterable[int]) -> set[int]:
        wanted = set(article_ids)
        if self.unit_ids is None or not wanted:
            return wanted
        in_scope = self.condition(Article.unit_id)
        assert in_scope is not None  # unit_ids is set here
        rows = await session.exec(select(Article.id).where(col(Article.id).in_(sorted(wanted)), in_scope))
        return {row for row in rows.all() if row is not None}


async def scope_of(session: AsyncSession, user: User) -> CallerScope:
    if user.scope_unit_id is None:
        return CallerScope(user, None)
    tree = await load_tree(session)
    return CallerScope(user, frozenset(tree.descendants(user.scope_unit_id)))


def scoped(*roles: str) -> Callable[..., Coroutine[Any, Any, CallerScope]]:
    """Like require_roles, and the caller's scope with it."""

    caller = require_roles(*roles)

    # No `from __future__ import annotations` here: FastAPI must see `caller` itself.
    async def dependency(state: StateDep, user: Annotated[User, Depends(caller)]) -> CallerScope:
        async with state.db.transaction() as session:
            return await scope_of(session, user)

    return dependency
