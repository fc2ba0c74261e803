"""The import-linter contracts in pyproject.toml hold on the real tree, and do catch an arrow against the grain.

The second half copies the packages to a temporary directory, adds one forbidden import, and runs
``lint-imports`` there with the same configuration: it must fail, naming the contract that broke.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("casework", "store", "bot", "cards", "graph", "scheduler", "app")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

CASEWORK_PURE = "casework imports only the standard library and holidays"
INDEPENDENT = "the adapters (store, bot, graph, scheduler) do not import each other"
APP_ROOT = "nothing but app imports app"
CARDS_SHARED = "cards are imported by bot and scheduler only"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} is missing: import-linter is in the dev extras (make .venv)"
    # The packages under root come first on the path, ahead of the editable install of the real tree.
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_tree_keeps_its_contracts() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in (CASEWORK_PURE, INDEPENDENT, APP_ROOT, CARDS_SHARED):
        assert f"{name} KEPT" in result.stdout


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages and the configuration, checked once to pass as copied."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    result = lint_imports(root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.mark.parametrize(
    ("module", "line", "contract", "arrow"),
    [
        ("casework/clock.py", "import sqlalchemy", CASEWORK_PURE, "casework.clock -> sqlalchemy"),
        ("casework/clock.py", "import store", CASEWORK_PURE, "casework.clock -> store"),
        ("store/engine.py", "import bot", INDEPENDENT, "store.engine -> bot"),
        ("graph/outbox.py", "from scheduler import runner", INDEPENDENT, "graph.outbox -> scheduler"),
        ("scheduler/runner.py", "from app import settings", APP_ROOT, "scheduler.runner -> app"),
        ("store/engine.py", "import cards", CARDS_SHARED, "store.engine -> cards"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    pristine: Path, tmp_path: Path, module: str, line: str, contract: str, arrow: str
) -> None:
    root = tmp_path / "tree"
    shutil.copytree(pristine, root)
    target = root / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # injected by the test\n", encoding="utf-8")

    result = lint_imports(root)

    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout, result.stdout + result.stderr
    assert arrow in result.stdout, result.stdout
