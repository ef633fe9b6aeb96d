"""The checks are pure: stdlib, nh3 and pyahocorasick only (no DB, HTTP, Redis or web framework)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import syndicator.checks
from channels import urls

ALLOWED_THIRD_PARTY = {"nh3", "ahocorasick", "ada_url"}
# Pure modules outside the checks that the checks share with the channels (one URL parser).
ALLOWED_SHARED = {"channels.urls"}
CHECKS_DIR = Path(syndicator.checks.__file__).parent


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module)
    return roots


def test_checks_import_only_the_stdlib_nh3_and_ahocorasick() -> None:
    for path in sorted(CHECKS_DIR.glob("*.py")):
        for module in _imported_roots(path):
            root = module.split(".")[0]
            allowed = module in ALLOWED_SHARED or root in sys.stdlib_module_names | ALLOWED_THIRD_PARTY
            assert allowed or module.startswith("syndicator.checks"), f"{path.name} imports {module}"


def test_the_shared_url_module_is_pure_too() -> None:
    for module in _imported_roots(Path(urls.__file__)):
        assert module.split(".")[0] in sys.stdlib_module_names or module == "ada_url", module


def test_modules_stay_small() -> None:
    for path in CHECKS_DIR.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path.name
