"""Free slots for a panel or a Stage 2 meeting: pure interval arithmetic, no I/O (ARCHITECTURE: Flow 3).

Inputs are each participant's busy blocks as aware datetimes (what ``getSchedule`` returns, or the
bot's own bookings when no tenant is configured), the working hours in Europe/London, the area's
:class:`~casework.calendar.WorkingCalendar` and the window: from ``earliest`` (now, or later) to
``latest_end`` (the statutory date, less the time the pack keeps for the letter; see
:func:`latest_meeting_end`). The answer is the best few slots, earliest first, when every
participant and the room are free; or, when there is none, a :class:`Shortfall` saying who is busy
on which days, the first slot after the deadline, and the earliest slot without each participant,
so that the complaints manager can swap a member or record the reason for the delay.

Times are handled as integer seconds since the epoch, so a busy block reported in UTC and working
hours in London wall-clock time meet on one line; each working day is converted with its own UTC
offset, which is what keeps 09:00 at 09:00 in the weeks either side of a clock change.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from casework.calendar import NonWorkingDay, WorkingCalendar
from casework.clock import END_OF_DAY, LONDON, add_months, spoken_date
from casework.errors import InvalidInput
from casework.periods import Period

#: Statuses Graph reports (``freeBusyStatus``), lower-cased. ``free`` and ``workingelsewhere`` leave
#: a person available; ``tentative`` blocks unless the caller says otherwise; anything else
#: (``busy``, ``oof``, ``unknown``, or a status this code does not know) blocks.
STATUSES: tuple[str, ...] = ("free", "tentative", "busy", "oof", "workingelsewhere", "unknown")
_AVAILABLE = frozenset({"free", "workingelsewhere"})

Interval = tuple[int, int]


def normalise_status(status: str | None) -> str:
    """Graph's statuses arrive in more than one casing (``Tentative``, ``workingElsewhere``)."""
    s = (status or "busy").strip().lower()
    return s if s in STATUSES else "busy"


def blocks(status: str, tentative_blocks: bool = True) -> bool:
    s = normalise_status(status)
    if s in _AVAILABLE:
        return False
    if s == "tentative":
        return tentative_blocks
    return True


@dataclass(frozen=True, slots=True)
class Busy:
    """One block of someone's calendar: ``[start, end)`` with its free/busy status."""

    start: datetime
    end: datetime
    status: str = "busy"


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """The hours meetings may be offered in, Europe/London wall-clock time (``CPC_WORKING_HOURS``)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        raw = text.strip()
        first, sep, second = raw.partition("-")
        try:
            if not sep:
                raise ValueError(raw)
            start = time.fromisoformat(first.strip())
            end = time.fromisoformat(second.strip())
        except ValueError:
            raise InvalidInput(f"working hours {text!r}: expected HH:MM-HH:MM, for example 09:00-17:00") from None
        if start >= end:
            raise InvalidInput(f"working hours {text!r}: the start must be before the end")
        return cls(start, end)

    def describe(self) -> str:
        return f"{self.start.strftime('%H:%M')}-{self.end.strftime('%H:%M')}"


def _fmt_at(t: datetime) -> str:
    local = t.astimezone(LONDON)
    return f"{spoken_date(local.date())} {local.strftime('%H:%M')} {local.tzname()}"


def describe_time(t: datetime) -> str:
    """``Tue 5 Jan 2027 10:00 GMT``: a moment as a complaints manager reads it, in Europe/London."""
    return _fmt_at(t)


def _fmt_duration(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    h, m = divmod(minutes, 60)
    if h and m:
        return f"{h} h {m} min"
    return f"{h} h" if h else f"{m} min"


@dataclass(frozen=True, slots=True)
class Slot:
    """A meeting time, in Europe/London."""

    start: datetime
    end: datetime

    def describe(self) -> str:
        s, e = self.start.astimezone(LONDON), self.end.astimezone(LONDON)
        return f"{spoken_date(s.date())} {s.strftime('%H:%M')}-{e.strftime('%H:%M')} {s.tzname()}"


@dataclass(frozen=True, slots=True)
class DayReport:
    """One working day in the window: who has anything in it, and who has no room at all for the meeting."""

    day: date
    busy: tuple[str, ...]
    unavailable: tuple[str, ...]


@dataclass(frozen=True)
class Shortfall:
    """Why no slot was found before the deadline, in terms a complaints manager can act on."""

    reason: str
    window_start: datetime
    window_end: datetime
    duration: timedelta
    hours: WorkingHours
    days: tuple[DayReport, ...]
    skipped: tuple[NonWorkingDay, ...]
    first_after: Slot | None
    searched_until: datetime
    without: tuple[tuple[str, Slot | None], ...]
    unknown: tuple[str, ...] = ()

    def text(self) -> str:
        parts = [self.reason]
        blocked = [d for d in self.days if d.unavailable or d.busy]
        if blocked:
            lines = []
            for d in blocked:
                who = ", ".join(d.unavailable) if d.unavailable else "no common free time"
                lines.append(f"{spoken_date(d.day)}: {who}")
            parts.append("Busy: " + "; ".join(lines) + ".")
        if self.skipped:
            parts.append(
                "Not working days: " + ", ".join(f"{spoken_date(s.day)} ({s.reason})" for s in self.skipped) + "."
            )
        if self.first_after is not None:
            parts.append(f"First slot after the deadline: {self.first_after.describe()}.")
        else:
            parts.append(f"No slot for everyone up to {_fmt_at(self.searched_until)} either.")
        swaps = [f"without {who}: {slot.describe()}" for who, slot in self.without if slot is not None]
        if swaps:
            parts.append("Earliest slot before the deadline " + "; ".join(swaps) + ".")
        if self.unknown:
            parts.append(f"Availability unknown for: {', '.join(self.unknown)}.")
        return " ".join(parts)


@dataclass(frozen=True)
class SlotSearch:
    slots: tuple[Slot, ...]
    window_start: datetime
    window_end: datetime
    shortfall: Shortfall | None
    notes: tuple[str, ...] = ()


# -- the deadline ---------------------------------------------------------------------------------


def latest_meeting_end(
    due: datetime, calendar: WorkingCalendar, letter_time: Period | None = None
) -> tuple[datetime, str]:
    """The latest moment the meeting may end: the statutory ``due`` less the letter's time, if any.

    With a letter due "within 10 working days of its meeting", meeting on the 10th working day before
    the statutory date leaves the letter due on (or before) that date. Returns the moment and a
    sentence explaining it.
    """
    local = due.astimezone(LONDON)
    if letter_time is None:
        return local, f"the statutory date, {_fmt_at(local)}"
    n, unit = letter_time.amount, letter_time.unit
    d = local.date()
    if unit == "hours":
        end = (due.astimezone(UTC) - timedelta(hours=n)).astimezone(LONDON)
    else:
        if unit == "working_days":
            last = calendar.subtract_working_days(d, n)
        elif unit == "days":
            last = d - timedelta(days=n)
        elif unit == "weeks":
            last = d - timedelta(days=7 * n)
        else:
            last = add_months(d, -n)
        end = datetime.combine(last, END_OF_DAY, tzinfo=LONDON)
    return end, f"{_fmt_at(end)}: the statutory date {_fmt_at(local)} less {letter_time.text} for the letter"


# -- interval arithmetic --------------------------------------------------------------------------


def _secs(t: datetime) -> int:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"naive datetime {t.isoformat()}: give an aware one")
    return int(t.timestamp())


def _secs_ceil(t: datetime) -> int:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"naive datetime {t.isoformat()}: give an aware one")
    s = t.timestamp()
    i = int(s)
    return i if i == s else i + 1


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
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


def _blocking(items: Iterable[Busy], tentative_blocks: bool) -> list[Interval]:
    return _merge((_secs(b.start), _secs_ceil(b.end)) for b in items if blocks(b.status, tentative_blocks))


@dataclass(frozen=True, slots=True)
class _Day:
    day: date
    start: int  # working hours start, clipped to the window
    end: int
    base: int  # local midnight of the day, in the offset of its working hours (slot alignment)
    full_start: int  # working hours, unclipped (for the day reports)
    full_end: int


def _local(d: date, t: time) -> int:
    # Working days are weekdays; UK clock changes fall on Sundays, so a working day has one offset.
    return int(datetime.combine(d, t, tzinfo=LONDON).timestamp())


def _days(calendar: WorkingCalendar, hours: WorkingHours, lo: int, hi: int) -> list[_Day]:
    """The working days whose working hours intersect ``[lo, hi)``, clipped to it."""
    out: list[_Day] = []
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
                out.append(_Day(d, a, b, ws - start_offset, ws, we))
        d += timedelta(days=1)
    return out


def _gaps(busy: Sequence[Interval], ends: Sequence[int], a: int, b: int) -> Iterable[Interval]:
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


def _fit(gap: Interval, base: int, step: int, dur: int) -> int | None:
    """The first start aligned to ``step`` after local midnight ``base`` that fits ``dur`` in ``gap``."""
    g0, g1 = gap
    s = base + -(-(g0 - base) // step) * step
    return s if s + dur <= g1 else None


def _first_fits(
    busy: Sequence[Interval], days: Sequence[_Day], step: int, dur: int, count: int, one_per_day: bool
) -> list[Interval]:
    ends = [e for _, e in busy]
    out: list[Interval] = []
    for day in days:
        for gap in _gaps(busy, ends, day.start, day.end):
            s = _fit(gap, day.base, step, dur)
            while s is not None:
                out.append((s, s + dur))
                if len(out) >= count:
                    return out
                if one_per_day:
                    break
                s = _fit((s + step, gap[1]), day.base, step, dur)
            if one_per_day and out and out[-1][0] >= day.start:
                break
    return out


def _slot(iv: Interval) -> Slot:
    return Slot(datetime.fromtimestamp(iv[0], LONDON), datetime.fromtimestamp(iv[1], LONDON))


def find_slots(
    busy: Mapping[str, Iterable[Busy]],
    *,
    duration: timedelta,
    earliest: datetime,
    latest_end: datetime,
    calendar: WorkingCalendar,
    hours: WorkingHours,
    step: timedelta = timedelta(minutes=30),
    count: int = 3,
    one_per_day: bool = True,
    tentative_blocks: bool = True,
    search_until: datetime | None = None,
    unknown: Iterable[str] = (),
) -> SlotSearch:
    """The first ``count`` slots (one per day unless ``one_per_day`` is false) when every participant
    in ``busy`` is free for ``duration``, inside ``hours`` on working days, starting at or after
    ``earliest`` and ending by ``latest_end``.

    Slot starts are aligned to ``step`` from local midnight (with 30 minutes: 09:00, 09:30...). When
    there is no slot, the answer carries a :class:`Shortfall`; its first slot after the deadline is
    looked for up to ``search_until`` (which must not go beyond the calendars the caller has read).
    Participants named in ``unknown`` had no readable calendar: they are not treated as busy, and the
    notes and the shortfall say so.
    """
    if duration <= timedelta(0):
        raise InvalidInput("the meeting's duration must be positive")
    if step <= timedelta(0) or step.total_seconds() % 60:
        raise InvalidInput("slot steps are whole minutes (for example 15 or 30)")
    if count < 1:
        raise InvalidInput("ask for at least one slot")
    dur = int(duration.total_seconds())
    st = int(step.total_seconds())
    lo, hi = _secs_ceil(earliest), _secs(latest_end)
    per: dict[str, list[Interval]] = {who: _blocking(items, tentative_blocks) for who, items in busy.items()}
    union = _merge(iv for ivs in per.values() for iv in ivs)
    days = _days(calendar, hours, lo, hi)
    found = _first_fits(union, days, st, dur, count, one_per_day)
    start_l = datetime.fromtimestamp(lo, LONDON)
    end_l = latest_end.astimezone(LONDON)
    unknown_t = tuple(unknown)
    notes = (f"Availability unknown for: {', '.join(unknown_t)}; check with them before booking.",) if unknown_t else ()
    if found:
        return SlotSearch(tuple(_slot(iv) for iv in found), start_l, end_l, None, notes)

    until = max(_secs(search_until), hi) if search_until is not None else hi
    after_days = _days(calendar, hours, lo, until)
    after = _first_fits(union, after_days, st, dur, 1, True)
    first_after = _slot(after[0]) if after and after[0][1] > hi else None

    reports: list[DayReport] = []
    for day in days:
        in_day: list[str] = []
        no_room: list[str] = []
        for who, ivs in per.items():
            ends = [e for _, e in ivs]
            gaps = list(_gaps(ivs, ends, day.start, day.end))
            if gaps != [(day.start, day.end)]:
                in_day.append(who)
            if not any(_fit(g, day.base, st, dur) is not None for g in gaps):
                no_room.append(who)
        reports.append(DayReport(day.day, tuple(in_day), tuple(no_room)))

    without: list[tuple[str, Slot | None]] = []
    if len(per) > 1:
        for who in per:
            rest = _merge(iv for other, ivs in per.items() if other != who for iv in ivs)
            alt = _first_fits(rest, days, st, dur, 1, True)
            without.append((who, _slot(alt[0]) if alt else None))

    window = f"between {_fmt_at(start_l)} and {_fmt_at(end_l)}"
    if hi <= lo:
        reason = f"The deadline ({_fmt_at(end_l)}) has passed or leaves no time from {_fmt_at(start_l)}."
    elif not days:
        reason = f"There is no working time ({hours.describe()} on working days) {window}."
    elif not any(_fit((d.start, d.end), d.base, st, dur) is not None for d in days):
        reason = f"No {_fmt_duration(duration)} fits in working hours ({hours.describe()}) {window}."
    else:
        reason = (
            f"No {_fmt_duration(duration)} when all {len(per)} are free within working hours "
            f"({hours.describe()}) on the {len(days)} working day(s) {window}."
        )
    skipped = tuple(calendar.skipped_between(start_l.date() - timedelta(days=1), end_l.date())) if hi > lo else ()
    shortfall = Shortfall(
        reason=reason,
        window_start=start_l,
        window_end=end_l,
        duration=duration,
        hours=hours,
        days=tuple(reports),
        skipped=skipped,
        first_after=first_after,
        searched_until=datetime.fromtimestamp(until, LONDON),
        without=tuple(without),
        unknown=unknown_t,
    )
    return SlotSearch((), start_l, end_l, shortfall, notes)
