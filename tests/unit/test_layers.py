"""Where a newcomer looks (issue 15 §4): every route in syndicator/api/, every command in
syndicator/cli/, and the layers below them never reach up: channels/ imports nothing from
syndicator/, and feature packages never import the API (they raise their own errors)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Entry points: they start the API (serve, demo) or are it.
ENTRY_POINTS = ("syndicator/api/", "syndicator/cli/", "syndicator/demo/")


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), path


def test_channels_import_nothing_from_syndicator() -> None:
    reaching_up = {
        name: found
        for name, path in modules("channels")
        if (found := sorted(i for i in imports(path) if i.split(".")[0] == "syndicator"))
    }
    assert reaching_up == {}


def test_feature_packages_never_import_the_api() -> None:
    reaching_up = {
        name: found
        for name, path in modules("syndicator")
        if not name.startswith(ENTRY_POINTS)
        and (found := sorted(i for i in imports(path) if i.startswith(("syndicator.api", "fastapi"))))
    }
    assert reaching_up == {}


def test_routes_and_commands_live_in_their_packages() -> None:
    homes = {"APIRouter(": "syndicator/api/", "typer.Typer(": "syndicator/cli/"}
    outside = {
        name: marker
        for name, path in modules("syndicator")
        for marker, home in homes.items()
        if marker in path.read_text() and not name.startswith(home)
    }
    assert outside == {}
