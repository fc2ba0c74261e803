"""Building the ``cpc`` parser, and ``cpc timeline``, import only what they use (each in a fresh
interpreter, so that what other tests imported does not count): no alembic, no Microsoft Graph or
Agents SDK, no booking code, no store, no casework service or case bundle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "alembic",
    "msgraph",
    "microsoft_agents",
    "sqlalchemy",
    "store",
    "graph",
    "app.booking",
    "app.cli_booking",
    "app.cli_case",
    "casework.service",
    "casework.bundle",
    "app.bundle",
)
TIMELINE = ["timeline", "--area", "sussex", "--process", "dissent", "--event", "conference_held=2026-12-17T14:00"]


def loaded_after(code: str) -> list[str]:
    probe = (
        "import json, sys, contextlib, io\n"
        f"{code}\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy))))\n"
    )
    res = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    found: list[str] = json.loads(res.stdout.strip().splitlines()[-1])
    return found


def test_building_the_parser_imports_no_heavy_module() -> None:
    assert loaded_after("from app.cli import build_parser\nbuild_parser()") == []


@pytest.mark.parametrize("argv", [["timeline", "--help"], TIMELINE], ids=["help", "run"])
def test_cpc_timeline_imports_no_heavy_module(argv: list[str]) -> None:
    run = (
        "from app.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        code = main({argv!r})\n"
        "    except SystemExit as exc:\n"
        "        code = exc.code\n"
        "assert code == 0, code"
    )
    assert loaded_after(run) == []


def test_the_probe_sees_a_heavy_import() -> None:
    assert "alembic" in loaded_after("import alembic")


def test_checking_a_bundle_loads_neither_the_pdf_writer_nor_the_case_service(tmp_path: Path) -> None:
    """``cpc audit verify --bundle`` needs the file and the key only (app.bundle_check). The store
    package still loads SQLAlchemy with its audit-key module, so only what the export adds is checked."""
    bundle = tmp_path / "not-a-bundle.json"
    bundle.write_text("{}", encoding="utf-8")
    run = (
        "import os\n"
        "os.environ['CPC_AUDIT_KEY'] = 'k' * 64\n"
        "from app.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['audit', 'verify', '--bundle', {str(bundle)!r}]) == 1\n"
        "heavy_now = [m for m in sys.modules if m.split('.')[0] in {'fpdf', 'pypdf'}]\n"
        "assert not heavy_now, heavy_now"
    )
    assert [m for m in loaded_after(run) if m.split(".")[0] not in {"sqlalchemy", "alembic", "store"}] == []
