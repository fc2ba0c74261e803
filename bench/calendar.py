"""Benchmark: "add N working days" against numpy.busday_offset, and one full timeline.

Prints, from one run, the time per call of our bisect calendar and of ``numpy.busday_offset``
called once per date over the same 100,000 random dates (numpy is a benchmark-only extra), their
ratio (target: ours at most half numpy's), and the median time of a full timeline for one case
(target: under 50 microseconds). Both are reported, never asserted in the test suite.

    .venv/bin/python bench/calendar.py [--dates 100000] [--seed 1]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# standard library's ``calendar`` (which ``holidays`` imports): put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np

from app.procedures import load_catalogue
from casework.calendar import calendar_for
from casework.events import Event
from casework.timeline import evaluate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--dates", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timelines", type=int, default=20_000)
    args = ap.parse_args(argv)

    rng = random.Random(args.seed)
    start, span = date(2020, 1, 1), (date(2040, 12, 31) - date(2020, 1, 1)).days
    dates = [start + timedelta(days=rng.randrange(span)) for _ in range(args.dates)]
    ns = [rng.randint(1, 30) for _ in range(args.dates)]

    cal = calendar_for("ENG")
    holidays_np = np.array(
        [
            d.isoformat()
            for d in (start + timedelta(days=i) for i in range(span + 200))
            if d.weekday() < 5 and not cal.is_working_day(d)
        ],
        dtype="datetime64[D]",
    )
    np_dates = [np.datetime64(d.isoformat(), "D") for d in dates]

    # numpy.busday_offset counts from the day itself after rolling; "N working days after d, d not
    # counted" is roll='backward' then offset n (a non-working d rolls back to the previous working
    # day, whose successor is the first working day after d).
    t0 = time.perf_counter()
    ours = [cal.add_working_days(d, n) for d, n in zip(dates, ns, strict=True)]
    t_ours = time.perf_counter() - t0

    busday = np.busday_offset
    t0 = time.perf_counter()
    theirs = [busday(d, n, roll="backward", holidays=holidays_np) for d, n in zip(np_dates, ns, strict=True)]
    t_np = time.perf_counter() - t0

    mismatches = sum(1 for a, b in zip(ours, theirs, strict=True) if a != b.astype(date))
    per_ours = t_ours / args.dates * 1e6
    per_np = t_np / args.dates * 1e6
    print(f"add N working days over {args.dates:,} random dates (England, 2020-2040):")
    print(f"  bisect calendar      {per_ours:8.3f} us/call")
    print(f"  numpy.busday_offset  {per_np:8.3f} us/call")
    print(f"  ratio ours/numpy     {per_ours / per_np:8.3f}   (target <= 0.5)   mismatches: {mismatches}")

    areas = load_catalogue().areas
    area = areas["sussex"]
    base = datetime(2026, 12, 17, 14, 0, tzinfo=UTC)
    events = [Event("conference_held", base), Event("dissent_raised", base + timedelta(hours=20))]
    now = base + timedelta(days=2)
    for _ in range(1000):
        evaluate(area, "dissent", events, now)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(args.timelines):
        t = clock()
        evaluate(area, "dissent", events, now)
        samples.append(clock() - t)
    med = statistics.median(samples) / 1000
    p99 = sorted(samples)[int(len(samples) * 0.99)] / 1000
    print(f"full timeline, one case (sussex dissent, {len(area.rules_for('dissent'))} rules):")
    print(f"  median {med:7.2f} us   p99 {p99:7.2f} us   (target median < 50 us)")

    area = areas["london"]
    events = [Event("strategy_discussion", base - timedelta(days=20)), Event("conference_held", base)]
    samples = []
    for _ in range(args.timelines // 4):
        t = clock()
        evaluate(area, "conference", events, now)
        samples.append(clock() - t)
    print(f"full timeline, one case (london conference, {len(area.rules_for('conference'))} rules):")
    print(f"  median {statistics.median(samples) / 1000:7.2f} us")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
