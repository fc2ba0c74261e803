"""bench/scale.py runs end to end at its smallest sizes, so it cannot rot (its timings are reported,
not asserted). It checks its own fixture: the open flags it fills agree with casework's judgement,
and the deadlines it times list what the fixture means them to. With CI=true PostgreSQL must be there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale.py"


def test_scale_benchmark_runs_on_both_backends_with_small_sizes() -> None:
    argv = [sys.executable, str(BENCH), "--small"]
    if os.environ.get("CI") == "true":
        argv.append("--require-postgres")
    res = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "open flags as filled agree with casework's judgement (20 open of 40)" in out
    assert "manager" in out and "(20 items)" in out  # the head of safeguarding's decisions at 100 cases
    for figure in ("deadlines one-case ms", "deadlines manager ms", "replan first s", "digest ms", "digest KB"):
        assert f"sqlite     {figure}" in out
    assert "growth 40->100:" in out
    if "postgresql unreachable" not in out:
        assert "postgresql deadlines manager ms" in out
