"""A brute-force, minute-by-minute reference for :mod:`casework.slots`, shared by the tests and the
benchmark. Deliberately naive: every minute of the window is looked at on its own, in Europe/London
wall-clock time, against every busy block of every participant. Durations, steps and working hours are
whole minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta

from casework.calendar import WorkingCalendar
from casework.clock import LONDON
from casework.slots import Busy, WorkingHours, blocks

Minute = int  # minutes since the epoch


def _minute_range(earliest: datetime, latest_end: datetime) -> range:
    first = -(-int(earliest.timestamp()) // 60) if earliest.timestamp() % 60 else int(earliest.timestamp()) // 60
    last = int(latest_end.timestamp()) // 60
    return range(first, last)


def _local(m: Minute) -> datetime:
    return datetime.fromtimestamp(m * 60, LONDON)


def _working(m: Minute, calendar: WorkingCalendar, hours: WorkingHours) -> bool:
    t = _local(m)
    if not calendar.is_working_day(t.date()):
        return False
    tt = t.time()
    end = _local(m + 1)
    return hours.start <= tt and end.date() == t.date() and end.time() <= hours.end and end.time() > tt


def _busy_at(m: Minute, items: Iterable[Busy], tentative_blocks: bool) -> bool:
    a, b = m * 60, m * 60 + 60
    return any(blocks(x.status, tentative_blocks) and x.start.timestamp() < b and x.end.timestamp() > a for x in items)


def _starts(
    free: Mapping[Minute, bool],
    minutes: range,
    earliest: datetime,
    latest_end: datetime,
    duration: timedelta,
    step: timedelta,
) -> list[tuple[Minute, Minute]]:
    dur = int(duration.total_seconds()) // 60
    st = int(step.total_seconds()) // 60
    out = []
    for m in minutes:
        t = _local(m)
        if (t.hour * 60 + t.minute) % st:
            continue
        if m * 60 < earliest.timestamp() or (m + dur) * 60 > latest_end.timestamp():
            continue
        if all(free.get(k, False) for k in range(m, m + dur)):
            out.append((m, m + dur))
    return out


def _pick(starts: Sequence[tuple[Minute, Minute]], count: int, one_per_day: bool) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    seen: set[date] = set()
    for a, b in starts:
        d = _local(a).date()
        if one_per_day and d in seen:
            continue
        seen.add(d)
        out.append((_local(a), _local(b)))
        if len(out) >= count:
            break
    return out


def reference_slots(
    busy: Mapping[str, Sequence[Busy]],
    *,
    duration: timedelta,
    earliest: datetime,
    latest_end: datetime,
    calendar: WorkingCalendar,
    hours: WorkingHours,
    step: timedelta,
    count: int,
    one_per_day: bool,
    tentative_blocks: bool,
) -> list[tuple[datetime, datetime]]:
    """Slots as ``(start, end)`` pairs, the way :func:`casework.slots.find_slots` should find them."""
    minutes = _minute_range(earliest, latest_end)
    free = {
        m: _working(m, calendar, hours) and not any(_busy_at(m, items, tentative_blocks) for items in busy.values())
        for m in minutes
    }
    return _pick(_starts(free, minutes, earliest, latest_end, duration, step), count, one_per_day)


def reference_first_after(
    busy: Mapping[str, Sequence[Busy]],
    *,
    duration: timedelta,
    earliest: datetime,
    latest_end: datetime,
    search_until: datetime,
    calendar: WorkingCalendar,
    hours: WorkingHours,
    step: timedelta,
    tentative_blocks: bool,
) -> tuple[datetime, datetime] | None:
    found = reference_slots(
        busy,
        duration=duration,
        earliest=earliest,
        latest_end=max(search_until, latest_end),
        calendar=calendar,
        hours=hours,
        step=step,
        count=1,
        one_per_day=True,
        tentative_blocks=tentative_blocks,
    )
    if found and found[0][1] > latest_end:
        return found[0]
    return None


def reference_day_reports(
    busy: Mapping[str, Sequence[Busy]],
    *,
    duration: timedelta,
    earliest: datetime,
    latest_end: datetime,
    calendar: WorkingCalendar,
    hours: WorkingHours,
    step: timedelta,
    tentative_blocks: bool,
) -> list[tuple[date, tuple[str, ...], tuple[str, ...]]]:
    """Per working day of the window: (day, who has any blocking minute, who alone has no room)."""
    minutes = _minute_range(earliest, latest_end)
    working = {m: _working(m, calendar, hours) for m in minutes}
    days = sorted({_local(m).date() for m, w in working.items() if w})
    start_days: dict[str, set[date]] = {}
    for who, items in busy.items():
        free = {m: working[m] and not _busy_at(m, items, tentative_blocks) for m in minutes}
        start_days[who] = {_local(a).date() for a, _ in _starts(free, minutes, earliest, latest_end, duration, step)}
    out = []
    for d in days:
        in_day = [m for m in minutes if working[m] and _local(m).date() == d]
        busy_people = [who for who, items in busy.items() if any(_busy_at(m, items, tentative_blocks) for m in in_day)]
        no_room = [who for who in busy if d not in start_days[who]]
        out.append((d, tuple(busy_people), tuple(no_room)))
    return out


def at(d: date, hh: int, mm: int = 0) -> datetime:
    """A Europe/London wall-clock time, for hand-written cases."""
    return datetime.combine(d, time(hh, mm), tzinfo=LONDON)
