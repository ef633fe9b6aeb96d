"""Where a newcomer looks (issue 15 §4) and what stands below what (§3): every route in
syndicator/api/, every command in syndicator/cli/, and the layers below them never reach up —
channels/ imports nothing from syndicator/, feature packages never import the API (they raise their
own errors), and the pipeline stands below ingest, review and obligations, so no import cycle runs
through it. The import graph is grimp's, the one `lint-imports` judges the contracts in
pyproject.toml with (every import counts, also those inside functions)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Entry points: they start the API (serve, demo) or are it.
ENTRY_POINTS = ("syndicator.api", "syndicator.cli", "syndicator.demo")
PIPELINE = ("syndicator.pipeline", "syndicator.consistency")


@cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("syndicator", "channels", include_external_packages=True)


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def direct_imports(package: str, *, reaching: tuple[str, ...]) -> dict[str, list[str]]:
    """Modules of `package` that directly import a module of one of `reaching`, with what they import."""
    found = {}
    for module in sorted(m for m in graph().modules if _in(m, package)):
        imported = graph().find_modules_directly_imported_by(module)
        if hits := sorted(i for i in imported if any(_in(i, r) for r in reaching)):
            found[module] = hits
    return found


def test_channels_import_nothing_from_syndicator() -> None:
    assert direct_imports("channels", reaching=("syndicator",)) == {}


def test_feature_packages_never_import_the_api() -> None:
    reaching_up = direct_imports("syndicator", reaching=("syndicator.api", "fastapi"))
    assert {m: hits for m, hits in reaching_up.items() if not m.startswith(ENTRY_POINTS)} == {}


def test_routes_and_commands_live_in_their_packages() -> None:
    homes = {"APIRouter(": "syndicator/api/", "typer.Typer(": "syndicator/cli/"}
    outside = {
        name: marker
        for path in sorted((ROOT / "syndicator").rglob("*.py"))
        if (name := path.relative_to(ROOT).as_posix())
        for marker, home in homes.items()
        if marker in path.read_text() and not name.startswith(home)
    }
    assert outside == {}


@pytest.mark.parametrize(
    "forbidden", ["syndicator.articles", "syndicator.review", "syndicator.obligations", "syndicator.api"]
)
def test_the_pipeline_reaches_no_module_above_it(forbidden: str) -> None:
    for package in PIPELINE:
        chain = graph().find_shortest_chain(importer=package, imported=forbidden, as_packages=True)
        assert chain is None, f"{package} reaches {forbidden}: {' -> '.join(chain or ())}"


@pytest.mark.parametrize(
    ("one", "other"),
    [("articles", "review"), ("articles", "pipeline"), ("review", "pipeline"), ("pipeline", "obligations")],
)
def test_no_import_cycle_between(one: str, other: str) -> None:
    """Between packages: `pipeline.sending` importing `articles`, which imports `pipeline.fanout`,
    is a cycle of the two even though no single module imports itself."""
    one, other = f"syndicator.{one}", f"syndicator.{other}"
    both_ways = [
        graph().chain_exists(importer=a, imported=b, as_packages=True)
        for a, b in [(one, other), (other, one)]
    ]
    assert not all(both_ways)
