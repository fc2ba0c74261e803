"""Benchmark: "add N working days" against numpy.busday_offset used fairly, and one full timeline.

numpy is a benchmark-only extra (casework imports only the standard library and ``holidays``). The
references are the ones a sceptic would pick, not the slow way to call numpy:

- per date: ``numpy.busday_offset`` with a PREBUILT ``numpy.busdaycalendar``, once per date, against
  our ``add_working_days``, over the same random dates (England, 2020-2040) and counts 1-30;
- per batch: ONE vectorised ``numpy.busday_offset`` call per batch on datetime64 arrays made
  beforehand, against our ``add_working_days_batch``; and, for what a caller holding ``date`` objects
  pays, the same numpy call with the conversion from and back to ``date`` included.

Every contender runs once a round, in interleaved rounds whose order turns (bench/rounds.py); the
figures are medians over the rounds, and each ratio is printed with the min / median / max of its
per-round values. numpy counts from the day itself after rolling; "N working days after d, d not
counted" is ``roll='backward'`` then offset n (a non-working d rolls back to the previous working day,
whose successor is the first working day after d). ``roll='forward'`` costs the same but answers one
working day later for a start on a weekend or holiday. Every answer is checked against ours. Then the
median time of a full timeline for one case. Reported, never asserted in the test suite.

    .venv/bin/python bench/calendar.py [--dates 100000] [--rounds 11] [--batch 20,100000] [--clock cpu] [--seed 1]
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
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import numpy as np

from app.procedures import load_catalogue
from bench.rounds import CLOCK_WORDS, CLOCKS, interleaved, median, ratios, spread
from casework.calendar import WorkingCalendar, calendar_for
from casework.events import Event
from casework.timeline import evaluate


def working_days(
    cal: WorkingCalendar, dates: list[date], ns: list[int], rounds: int, batches: list[int], clock: str
) -> int:
    """Time and check ours against numpy per date and per batch; print the figures; the mismatches."""
    start, end = min(dates), max(dates) + timedelta(days=200)
    holidays_np = np.array(
        [
            d.isoformat()
            for d in (start + timedelta(days=i) for i in range((end - start).days))
            if d.weekday() < 5 and not cal.is_working_day(d)
        ],
        dtype="datetime64[D]",
    )
    busdaycal = np.busdaycalendar(holidays=holidays_np)
    np_dates = [np.datetime64(d.isoformat(), "D") for d in dates]
    offset = np.busday_offset

    def ours_per_date() -> list[date]:
        add = cal.add_working_days
        return [add(d, n) for d, n in zip(dates, ns, strict=True)]

    def numpy_per_date() -> list[np.datetime64]:
        return [offset(d, n, roll="backward", busdaycal=busdaycal) for d, n in zip(np_dates, ns, strict=True)]

    contenders: dict[str, Callable[[], object]] = {"ours": ours_per_date, "numpy": numpy_per_date}
    # One untimed run of each: the answers to check against ours, and every cache warm before the rounds.
    want = ours_per_date()
    mismatches = sum(1 for a, b in zip(want, numpy_per_date(), strict=True) if a != b.astype(date))
    for size in batches:
        chunks = [(dates[i : i + size], ns[i : i + size]) for i in range(0, len(dates), size)]
        arrays = [(np.array(np_dates[i : i + size]), np.array(ns[i : i + size])) for i in range(0, len(dates), size)]

        # Each side returns one list (or array) per batch, so neither pays for flattening.
        def ours_batch(chunks: list[tuple[list[date], list[int]]] = chunks) -> list[list[date]]:
            batch = cal.add_working_days_batch
            return [batch(starts, counts) for starts, counts in chunks]

        def numpy_batch(arrays: list[tuple[np.ndarray, np.ndarray]] = arrays) -> list[np.ndarray]:
            return [offset(a, c, roll="backward", busdaycal=busdaycal) for a, c in arrays]

        def numpy_batch_dates(chunks: list[tuple[list[date], list[int]]] = chunks) -> list[list[date]]:
            return [
                offset(np.array(starts, dtype="datetime64[D]"), counts, roll="backward", busdaycal=busdaycal).tolist()
                for starts, counts in chunks
            ]

        contenders[f"ours batch {size}"] = ours_batch
        contenders[f"numpy batch {size}"] = numpy_batch
        contenders[f"numpy batch {size} dates"] = numpy_batch_dates
        for got in (ours_batch(), [arr.tolist() for arr in numpy_batch()], numpy_batch_dates()):
            flat: list[date] = [d for part in got for d in part]
            mismatches += sum(1 for a, b in zip(want, flat, strict=True) if a != b)

    t = interleaved(contenders, rounds, clock)
    n = len(dates)
    us = {name: median(v) / n * 1e6 for name, v in t.items()}
    print(
        f"add N working days (N 1-30) over {n:,} random dates (England, 2020-2040); {rounds} interleaved rounds,"
        f" medians of {CLOCK_WORDS[clock]}; ratio spread is min / median / max of the per-round ratios:"
    )
    print("  per date, one call each:")
    print(f"    ours add_working_days                 {us['ours']:8.3f} us/date")
    print(f"    numpy.busday_offset, prebuilt cal     {us['numpy']:8.3f} us/date")
    r = ratios(t["ours"], t["numpy"])
    print(f"    ratio ours/numpy prebuilt  {us['ours'] / us['numpy']:6.3f}  (rounds {spread(r)})  target <= 0.5")
    for size in batches:
        b, nb, nd = (f"ours batch {size}", f"numpy batch {size}", f"numpy batch {size} dates")
        print(f"  batches of {min(size, n):,} ({-(-n // size):,} calls), one call per batch:")
        print(f"    ours add_working_days_batch           {us[b]:8.3f} us/date")
        print(f"    numpy, datetime64 arrays in and out   {us[nb]:8.3f} us/date")
        print(f"    numpy, from and back to date objects  {us[nd]:8.3f} us/date")
        print(f"    ratio ours/numpy vectorised {us[b] / us[nb]:6.3f}  (rounds {spread(ratios(t[b], t[nb]))})")
        print(f"    ratio ours/numpy with dates {us[b] / us[nd]:6.3f}  (rounds {spread(ratios(t[b], t[nd]))})")
    print(f"  mismatches: {mismatches}")
    return mismatches


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--dates", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--batch", default="20,100000", help="batch sizes for the vectorised comparison")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timelines", type=int, default=20_000)
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="bench/rounds.py says why cpu")
    args = ap.parse_args(argv)

    rng = random.Random(args.seed)
    first, span = date(2020, 1, 1), (date(2040, 12, 31) - date(2020, 1, 1)).days
    dates = [first + timedelta(days=rng.randrange(span)) for _ in range(args.dates)]
    ns = [rng.randint(1, 30) for _ in range(args.dates)]
    batches = [int(x) for x in str(args.batch).split(",") if x.strip()]
    mismatches = working_days(calendar_for("ENG"), dates, ns, args.rounds, batches, args.clock)

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
