"""Benchmark: slot finding for a 5-person panel plus a room over 20 working days of dense calendars.

Times :func:`casework.slots.find_slots` (interval arithmetic) against the brute-force, minute-by-minute
reference of the tests (``tests/slot_reference.py``) on the same generated calendars, in the same run,
checks that both find the same slots, and prints the ratio (target: at least 50 times faster). Both
sides run ``--repeat`` times, in interleaved rounds (bench/rounds.py), and their medians are compared:
a median of ours against one run of the reference would let one slow reference run flatter us. The
calendars are dense (several meetings a working day each, some tentative, out-of-office days) so that
common free time is scarce and both have to search most of the window. Reported, never asserted in
the test suite.

    .venv/bin/python bench/slots.py [--people 5] [--days 20] [--per-day 4,7] [--repeat 7] [--clock cpu] [--seed 1]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and ``bench/calendar.py`` would shadow
# the standard library's ``calendar``: put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import random
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from bench.rounds import CLOCK_WORDS, CLOCKS, interleaved, median, ratios, spread
from casework.calendar import calendar_for
from casework.clock import LONDON
from casework.slots import Busy, WorkingHours, find_slots
from tests.slot_reference import reference_slots


def calendars(people: int, days: int, per_day: int, seed: int, start: date) -> tuple[dict[str, list[Busy]], datetime]:
    """Dense calendars for ``people`` and a room over ``days`` working days from ``start``."""
    rng = random.Random(seed)
    cal = calendar_for("ENG")
    working: list[date] = []
    d = start
    while len(working) < days:
        if cal.is_working_day(d):
            working.append(d)
        d += timedelta(days=1)
    busy: dict[str, list[Busy]] = {}
    for who in [*(f"member{i}@council.example" for i in range(people)), "room@council.example"]:
        items: list[Busy] = []
        for day in working:
            if rng.random() < 0.08:  # a day out of the office
                items.append(
                    Busy(
                        datetime.combine(day, clock_time(0), LONDON),
                        datetime.combine(day, clock_time(23, 59), LONDON),
                        "oof",
                    )
                )
                continue
            n = per_day if who.startswith("member") else per_day // 2
            for _ in range(n):
                s = datetime.combine(day, clock_time(8), LONDON) + timedelta(minutes=15 * rng.randrange(0, 40))
                length = timedelta(minutes=15 * rng.randrange(2, 8))
                items.append(Busy(s, s + length, rng.choice(["busy", "busy", "busy", "tentative", "workingElsewhere"])))
        busy[who] = items
    end = datetime.combine(working[-1], clock_time(23, 59, 59), LONDON)
    return busy, end


def run(people: int, days: int, per_day: int, repeat: int, seed: int, clock: str) -> bool:
    start = date(2027, 1, 4)
    busy, end = calendars(people, days, per_day, seed, start)
    kw = dict(
        duration=timedelta(minutes=90),
        earliest=datetime.combine(start, clock_time(8), LONDON),
        latest_end=end,
        calendar=calendar_for("ENG"),
        hours=WorkingHours.parse("09:00-17:00"),
        step=timedelta(minutes=15),
        count=3,
        one_per_day=True,
        tentative_blocks=True,
    )
    blocks = sum(len(v) for v in busy.values())
    # Untimed first: the answers to compare, and every cache warm before the rounds.
    found = find_slots(busy, **kw)  # type: ignore[arg-type]
    want = reference_slots(busy, **kw)  # type: ignore[arg-type]
    t = interleaved(
        {
            "ours": lambda: find_slots(busy, **kw),  # type: ignore[arg-type]
            "reference": lambda: reference_slots(busy, **kw),  # type: ignore[arg-type]
        },
        repeat,
        clock,
    )
    ms = {name: [x * 1000 for x in v] for name, v in t.items()}
    ours, ref = median(ms["ours"]), median(ms["reference"])
    got = [(s.start, s.end) for s in found.slots]
    print(
        f"{people} people + room, {days} working days from {start.isoformat()}, {per_day} meetings a day each, "
        f"{blocks} busy blocks; 90 minutes on 15-minute steps; "
        f"{len(t['ours'])} interleaved rounds, medians of {CLOCK_WORDS[clock]}"
    )
    note = " (none: includes the explanation, first slot after, and each member left out)" if not found.slots else ""
    print(f"  interval arithmetic  {ours:10.3f} ms  (min / median / max {spread(ms['ours'])} ms){note}")
    print(f"  minute-by-minute     {ref:10.3f} ms  (min / median / max {spread(ms['reference'], '.1f')} ms)")
    per_round = ratios(t["reference"], t["ours"])
    print(f"  ratio reference/ours {ref / ours:10.1f}x  (rounds {spread(per_round, '.0f')})  target >= 50x")
    print(f"  slots: {'; '.join(s.describe() for s in found.slots) or 'none'}")
    print(f"  same slots as the reference: {got == want}")
    return got == want


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--people", type=int, default=5)
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--per-day", default="4,7", help="meetings a working day per person; several runs: 4,7")
    ap.add_argument("--repeat", type=int, default=7, help="runs of each side, interleaved")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="bench/rounds.py says why cpu")
    args = ap.parse_args(argv)
    ok = True
    for n in (int(x) for x in str(args.per_day).split(",") if x.strip()):
        ok = run(args.people, args.days, n, args.repeat, args.seed, args.clock) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
