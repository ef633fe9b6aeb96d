"""Finding 1, the class: no route holds a transaction while anything waits on the network.

Bodies are read by the request edge before a route runs (tests/integration/test_slow_clients.py).
This test covers the other end: a dependency with `yield` (the database session) must end when
the route returns, not after the answer went out to a client that may never read it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from syndicator.api.app import create_app
from syndicator.config import Settings


def yielding(dependant: Dependant) -> list[Dependant]:
    found = []
    for sub in dependant.dependencies:
        if inspect.isasyncgenfunction(sub.call) or inspect.isgeneratorfunction(sub.call):
            found.append(sub)
        found.extend(yielding(sub))
    return found


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI keeps included routers as such
            yield from api_routes(route.original_router.routes)


def test_every_yield_dependency_ends_before_the_response_is_sent() -> None:
    routes = list(api_routes(create_app(Settings()).routes))
    checked = [(route.path, dep) for route in routes for dep in yielding(route.dependant)]
    assert checked, "no route uses the database session dependency any more?"
    late = {(path, dep.call.__name__) for path, dep in checked if dep.scope != "function"}
    assert not late, f"these hold their resource while the response is sent: {sorted(late)}"
