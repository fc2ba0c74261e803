"""casework/ imports nothing beyond the standard library and holidays (ARCHITECTURE: Rooms)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CASEWORK = Path(__file__).resolve().parents[2] / "casework"
ALLOWED = set(sys.stdlib_module_names) | {"holidays", "casework", "__future__"}


def imported_roots(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            found.append((node.lineno, "__import__(...)"))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            found.append((node.lineno, "importlib.import_module(...)"))
    return found


def violations(root: Path) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        for line, name in imported_roots(path):
            if name.split(".")[0] not in ALLOWED or name.endswith("(...)"):
                bad.append(f"{path.name}:{line} imports {name}")
    return bad


def test_casework_is_pure() -> None:
    assert CASEWORK.is_dir()
    assert violations(CASEWORK) == []


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import sqlalchemy\nfrom aiohttp import web\nimport datetime\n")
    assert violations(tmp_path) == ["bad.py:1 imports sqlalchemy", "bad.py:2 imports aiohttp"]
