"""Free time inside working hours, as interval arithmetic on integer seconds (ARCHITECTURE: Flow 3).

Times are handled as integer seconds since the epoch, so a busy block reported in UTC and working
hours in London wall-clock time meet on one line; each working day is converted with its own UTC
offset, which is what keeps 09:00 at 09:00 in the weeks either side of a clock change. The slot
search (:mod:`casework.slots`) and its shortfall (:mod:`casework.shortfall`) are built on these.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from casework.calendar import WorkingCalendar
from casework.clock import LONDON
from casework.free_busy import Busy, blocks
from casework.meeting_times import Slot, WorkingHours

Interval = tuple[int, int]


def seconds(t: datetime) -> int:
    """An aware moment as whole seconds since the epoch, rounded down (a naive one is a bug: refused)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"naive datetime {t.isoformat()}: give an aware one")
    return int(t.timestamp())


def seconds_ceil(t: datetime) -> int:
    """As :func:`seconds`, rounded up: a block ending mid-second still covers that second."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"naive datetime {t.isoformat()}: give an aware one")
    s = t.timestamp()
    i = int(s)
    return i if i == s else i + 1


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of ``intervals`` as sorted, disjoint intervals (empty ones dropped)."""
    out: list[Interval] = []
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def blocking(items: Iterable[Busy], tentative_blocks: bool) -> list[Interval]:
    """One participant's blocks that keep a meeting out, merged and sorted."""
    return merge((seconds(b.start), seconds_ceil(b.end)) for b in items if blocks(b.status, tentative_blocks))


@dataclass(frozen=True, slots=True)
class WorkingSpan:
    """One working day's working hours, in seconds."""

    day: date
    start: int  # working hours start, clipped to the window
    end: int
    base: int  # local midnight of the day, in the offset of its working hours (slot alignment)
    full_start: int  # working hours, unclipped (for the day reports)
    full_end: int


def _local(d: date, t: time) -> int:
    # Working days are weekdays; UK clock changes fall on Sundays, so a working day has one offset.
    return int(datetime.combine(d, t, tzinfo=LONDON).timestamp())


def working_spans(calendar: WorkingCalendar, hours: WorkingHours, lo: int, hi: int) -> list[WorkingSpan]:
    """The working days whose working hours intersect ``[lo, hi)``, clipped to it."""
    out: list[WorkingSpan] = []
    if hi <= lo:
        return out
    d = datetime.fromtimestamp(lo, LONDON).date()
    last = datetime.fromtimestamp(hi, LONDON).date()
    start_offset = hours.start.hour * 3600 + hours.start.minute * 60 + hours.start.second
    while d <= last:
        if calendar.is_working_day(d):
            ws, we = _local(d, hours.start), _local(d, hours.end)
            a, b = max(ws, lo), min(we, hi)
            if a < b:
                out.append(WorkingSpan(d, a, b, ws - start_offset, ws, we))
        d += timedelta(days=1)
    return out


def gaps(busy: Sequence[Interval], ends: Sequence[int], a: int, b: int) -> Iterable[Interval]:
    """The parts of ``[a, b)`` not covered by the merged, sorted ``busy`` (``ends``: their ends)."""
    i = bisect_right(ends, a)
    cur = a
    n = len(busy)
    while i < n and busy[i][0] < b:
        s, e = busy[i]
        if s > cur:
            yield cur, s
        if e > cur:
            cur = e
        i += 1
    if cur < b:
        yield cur, b


def fit(gap: Interval, base: int, step: int, dur: int) -> int | None:
    """The first start aligned to ``step`` after local midnight ``base`` that fits ``dur`` in ``gap``."""
    g0, g1 = gap
    s = base + -(-(g0 - base) // step) * step
    return s if s + dur <= g1 else None


def first_fits(
    busy: Sequence[Interval], days: Sequence[WorkingSpan], step: int, dur: int, count: int, one_per_day: bool
) -> list[Interval]:
    """The first ``count`` meeting intervals clear of ``busy`` (one per day when ``one_per_day``)."""
    ends = [e for _, e in busy]
    out: list[Interval] = []
    for day in days:
        for gap in gaps(busy, ends, day.start, day.end):
            s = fit(gap, day.base, step, dur)
            while s is not None:
                out.append((s, s + dur))
                if len(out) >= count:
                    return out
                if one_per_day:
                    break
                s = fit((s + step, gap[1]), day.base, step, dur)
            if one_per_day and out and out[-1][0] >= day.start:
                break
    return out


def to_slot(iv: Interval) -> Slot:
    """An interval back as a meeting time in Europe/London."""
    return Slot(datetime.fromtimestamp(iv[0], LONDON), datetime.fromtimestamp(iv[1], LONDON))
