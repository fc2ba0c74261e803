"""bench/slots.py runs and agrees with the minute-by-minute reference (its timings are reported, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "slots.py"


def test_slot_benchmark_runs_small_and_matches_the_reference() -> None:
    res = subprocess.run(
        [sys.executable, str(BENCH), "--days", "2", "--per-day", "1,6", "--repeat", "2", "--people", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("same slots as the reference: True") == 2
    assert "ratio reference/ours" in res.stdout
    assert res.stdout.count("2 interleaved rounds, medians") == 2  # medians on both sides, same runs
