"""The checks are pure: stdlib, nh3 and pyahocorasick only (no DB, HTTP, Redis or web framework)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import syndicator.checks

ALLOWED_THIRD_PARTY = {"nh3", "ahocorasick"}
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
            allowed = root in sys.stdlib_module_names or root in ALLOWED_THIRD_PARTY
            assert allowed or module.startswith("syndicator.checks"), f"{path.name} imports {module}"


def test_modules_stay_small() -> None:
    for path in CHECKS_DIR.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path.name
