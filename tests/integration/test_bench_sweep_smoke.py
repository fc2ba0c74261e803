"""bench/sweep.py runs end to end with tiny sizes, so it cannot rot (its timings are reported, not
asserted). With CI=true PostgreSQL must be there, as for the other PostgreSQL tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sweep.py"


def test_sweep_benchmark_runs_on_both_backends_with_small_sizes() -> None:
    argv = [sys.executable, str(BENCH), "--small", "--repeats", "2"]
    if os.environ.get("CI") == "true":
        argv.append("--require-postgres")
    res = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "sqlite          2,000 stored    100 due" in res.stdout
    assert "sqlite     ratio largest/smallest store:" in res.stdout
    if "postgresql unreachable" not in res.stdout:
        assert "postgresql     20,000 stored    100 due" in res.stdout
