"""bench/dissent.py and bench/turn_counts.py run end to end at their smallest size, so that neither
rots (their timings and counts are reported, not asserted). With CI=true PostgreSQL must be there, as
for the other PostgreSQL tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_dissent_benchmark_runs_on_both_backends_at_its_smallest() -> None:
    argv = [sys.executable, str(BENCH / "dissent.py"), "--conversations", "2", "--rounds", "1"]
    if os.environ.get("CI") == "true":
        argv.append("--require-postgres")
    res = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "dissent at 2 concurrent conversations x 1 rounds" in res.stdout
    backends = ["sqlite"] + ([] if "postgresql unreachable" in res.stdout else ["postgresql"])
    for name in backends:
        line = next(x for x in res.stdout.splitlines() if x.strip().startswith(f"{name} "))
        assert "p50" in line and "p99" in line and "(2 turns)" in line and "delivered: 2/2" in line, line


def test_turn_counts_run_and_count_one_transaction_per_dissent() -> None:
    res = subprocess.run(
        [sys.executable, str(BENCH / "turn_counts.py")], capture_output=True, text=True, check=False, timeout=300
    )
    assert res.returncode == 0, res.stdout + res.stderr
    dissent = next(x for x in res.stdout.splitlines() if "sqlite" in x and "dissent " in x and "in all" not in x)
    assert "in  1 transactions" in dissent, dissent
    assert "dissent in all" in res.stdout
