"""The audit verification benchmark runs at its smallest size and its log verifies (figures reported, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "audit_verify.py"


def test_audit_verify_benchmark_runs_and_its_log_verifies() -> None:
    res = subprocess.run([sys.executable, str(BENCH), "--small"], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "audit log intact: 2000 entries, 2000 signed in 1 key segment(s)" in res.stdout
    assert "peak" in res.stdout and "target" in res.stdout
