"""Interleaved rounds and medians, shared by the benchmarks that compare us with a reference.

Each round runs every contender once, and the order turns by one each round, so that a slow spell of
this shared 2-core machine (another process, a change of clock speed) falls on all sides alike rather
than on whichever ran last. Medians are compared, never one run against many, and the spread of the
per-round ratios is printed with them so that a reader sees how steady a figure is.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence


def interleaved(contenders: Mapping[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Seconds per run of each contender, one run a round for ``rounds`` rounds, order turning."""
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    for r in range(max(1, rounds)):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            run = contenders[name]
            t0 = clock()
            run()
            times[name].append(clock() - t0)
    return times


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def ratios(ours: Sequence[float], theirs: Sequence[float]) -> list[float]:
    """Per-round ratios ours/theirs: both were timed in the same round, next to each other."""
    return [a / b for a, b in zip(ours, theirs, strict=True)]


def spread(values: Sequence[float], fmt: str = ".3f") -> str:
    """``min / median / max`` of per-round values."""
    return f"{min(values):{fmt}} / {median(values):{fmt}} / {max(values):{fmt}}"
