"""The benchmark runs and agrees with numpy date for date (its timings are reported, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "calendar.py"


def test_calendar_benchmark_runs_and_matches_numpy() -> None:
    res = subprocess.run(
        [sys.executable, str(BENCH), "--dates", "3000", "--timelines", "200"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "mismatches: 0" in res.stdout
    assert "ratio ours/numpy" in res.stdout and "full timeline" in res.stdout
