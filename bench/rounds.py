"""Interleaved rounds and medians, shared by the benchmarks that compare us with a reference.

Each round runs every contender once, and the order turns by one each round, so that a slow spell of
this shared 2-core machine (another process, a change of clock speed) falls on all sides alike rather
than on whichever ran last. Medians are compared, never one run against many, and the spread of the
per-round ratios is printed with them so that a reader sees how steady a figure is.

The clock is the thread's CPU time by default: this machine is shared, and a run that lasts seconds
(the brute-force slot search) is preempted by other work far more often than one that lasts a
millisecond, which would inflate our ratio with wall time. Wall time stays one flag away
(``--clock wall``). Both contenders of every comparison here are single-threaded Python or numpy.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence

CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.thread_time, "wall": time.perf_counter}
CLOCK_WORDS = {"cpu": "thread CPU time", "wall": "wall time"}


def interleaved(
    contenders: Mapping[str, Callable[[], object]], rounds: int, clock: str = "cpu"
) -> dict[str, list[float]]:
    """Seconds per run of each contender on ``clock`` (``cpu`` or ``wall``), one run a round for
    ``rounds`` rounds, the order turning by one each round."""
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    now = CLOCKS[clock]
    for r in range(max(1, rounds)):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            run = contenders[name]
            t0 = now()
            run()
            times[name].append(now() - t0)
    return times


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def ratios(ours: Sequence[float], theirs: Sequence[float]) -> list[float]:
    """Per-round ratios ours/theirs: both were timed in the same round, next to each other."""
    return [a / b for a, b in zip(ours, theirs, strict=True)]


def spread(values: Sequence[float], fmt: str = ".3f") -> str:
    """``min / median / max`` of per-round values."""
    return f"{min(values):{fmt}} / {median(values):{fmt}} / {max(values):{fmt}}"
