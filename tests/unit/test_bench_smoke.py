"""The calendar benchmark runs at its smallest size and agrees with numpy date for date, per date and per
batch (its timings are reported, not asserted: speed is a ratio measured in one run, in bench/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "calendar.py"


def test_calendar_benchmark_runs_and_matches_numpy() -> None:
    res = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--dates",
            "300",
            "--rounds",
            "2",
            "--batch",
            "7,300",
            "--timelines",
            "50",
            "--clock",
            "wall",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "mismatches: 0" in res.stdout
    assert "ratio ours/numpy prebuilt" in res.stdout
    assert res.stdout.count("ratio ours/numpy vectorised") == 2
    assert res.stdout.count("ratio ours/numpy with dates") == 2
    assert "full timeline" in res.stdout
