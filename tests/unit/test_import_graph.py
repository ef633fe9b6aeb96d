"""The pipeline stands below ingest, review and obligations: it imports none of them, directly or
through another module, so no import cycle runs through it. (Every import counts, also those
inside functions: a deferred import is still a dependency.)"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import syndicator

ROOT = Path(syndicator.__file__).resolve().parent.parent
PIPELINE = ("syndicator.pipeline", "syndicator.consistency")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules `path` imports (`from syndicator import audit` is `syndicator.audit`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found & modules


@cache
def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in (ROOT / "syndicator").rglob("*.py")}
    return {name: _imports(path, set(paths)) for name, path in paths.items()}


@cache
def _reachable(start: str) -> frozenset[str]:
    graph, seen, todo = _graph(), set(), [start]
    while todo:
        for imported in graph[todo.pop()] - seen:
            seen.add(imported)
            todo.append(imported)
    return frozenset(seen)


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize(
    "forbidden", ["syndicator.articles", "syndicator.review", "syndicator.obligations", "syndicator.api"]
)
def test_the_pipeline_reaches_no_module_above_it(forbidden: str) -> None:
    graph = _graph()
    for module in (m for m in graph if any(_in(m, p) for p in PIPELINE)):
        reached = sorted(m for m in _reachable(module) if _in(m, forbidden))
        assert not reached, f"{module} imports {reached}"


@pytest.mark.parametrize(
    ("one", "other"),
    [("articles", "review"), ("articles", "pipeline"), ("review", "pipeline"), ("pipeline", "obligations")],
)
def test_no_import_cycle_between(one: str, other: str) -> None:
    """Between packages: `pipeline.sending` importing `articles`, which imports `pipeline.fanout`,
    is a cycle of the two even though no single module imports itself."""
    one, other = f"syndicator.{one}", f"syndicator.{other}"
    assert not (_depends(one, other) and _depends(other, one))


def _depends(importer: str, imported: str) -> bool:
    """Some module of `importer` reaches some module of `imported` (as import-linter judges it)."""
    starts = [m for m in _graph() if _in(m, importer)]
    return any(_in(m, imported) for start in starts for m in _reachable(start))
