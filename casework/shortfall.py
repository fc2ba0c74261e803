"""Why no slot was found before the deadline, in terms a complaints manager can act on (ARCHITECTURE: Flow 3).

When every participant and the room are never free together in the window, the slot search
(:func:`casework.slots.find_slots`) answers with a :class:`Shortfall` instead: who is busy on which
days, the first slot after the deadline, and the earliest slot without each participant, so that
the complaints manager can swap a member or record the reason for the delay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from casework.calendar import NonWorkingDay, WorkingCalendar
from casework.clock import LONDON, spoken_date
from casework.free_time import Interval, WorkingSpan, first_fits, fit, gaps, merge, seconds, to_slot, working_spans
from casework.meeting_times import Slot, WorkingHours, describe_duration, describe_time


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
            parts.append(f"No slot for everyone up to {describe_time(self.searched_until)} either.")
        swaps = [f"without {who}: {slot.describe()}" for who, slot in self.without if slot is not None]
        if swaps:
            parts.append("Earliest slot before the deadline " + "; ".join(swaps) + ".")
        if self.unknown:
            parts.append(f"Availability unknown for: {', '.join(self.unknown)}.")
        return " ".join(parts)


def explain_shortfall(
    per: Mapping[str, Sequence[Interval]],
    union: Sequence[Interval],
    days: Sequence[WorkingSpan],
    *,
    calendar: WorkingCalendar,
    hours: WorkingHours,
    lo: int,
    hi: int,
    window_start: datetime,
    window_end: datetime,
    step: int,
    duration: timedelta,
    search_until: datetime | None,
    unknown: tuple[str, ...],
) -> Shortfall:
    """The shortfall of a search that found nothing in ``days`` (the working time of ``[lo, hi)``).

    ``per`` holds each participant's blocking intervals and ``union`` all of them merged; the first
    slot after the deadline is looked for up to ``search_until`` (never before ``hi``).
    """
    dur = int(duration.total_seconds())
    until = max(seconds(search_until), hi) if search_until is not None else hi
    after_days = working_spans(calendar, hours, lo, until)
    after = first_fits(union, after_days, step, dur, 1, True)
    first_after = to_slot(after[0]) if after and after[0][1] > hi else None

    reports: list[DayReport] = []
    for day in days:
        in_day: list[str] = []
        no_room: list[str] = []
        for who, ivs in per.items():
            ends = [e for _, e in ivs]
            free = list(gaps(ivs, ends, day.start, day.end))
            if free != [(day.start, day.end)]:
                in_day.append(who)
            if not any(fit(g, day.base, step, dur) is not None for g in free):
                no_room.append(who)
        reports.append(DayReport(day.day, tuple(in_day), tuple(no_room)))

    without: list[tuple[str, Slot | None]] = []
    if len(per) > 1:
        for who in per:
            rest = merge(iv for other, ivs in per.items() if other != who for iv in ivs)
            alt = first_fits(rest, days, step, dur, 1, True)
            without.append((who, to_slot(alt[0]) if alt else None))

    window = f"between {describe_time(window_start)} and {describe_time(window_end)}"
    if hi <= lo:
        reason = (
            f"The deadline ({describe_time(window_end)}) has passed or leaves no time from "
            f"{describe_time(window_start)}."
        )
    elif not days:
        reason = f"There is no working time ({hours.describe()} on working days) {window}."
    elif not any(fit((d.start, d.end), d.base, step, dur) is not None for d in days):
        reason = f"No {describe_duration(duration)} fits in working hours ({hours.describe()}) {window}."
    else:
        reason = (
            f"No {describe_duration(duration)} when all {len(per)} are free within working hours "
            f"({hours.describe()}) on the {len(days)} working day(s) {window}."
        )
    skipped = (
        tuple(calendar.skipped_between(window_start.date() - timedelta(days=1), window_end.date())) if hi > lo else ()
    )
    return Shortfall(
        reason=reason,
        window_start=window_start,
        window_end=window_end,
        duration=duration,
        hours=hours,
        days=tuple(reports),
        skipped=skipped,
        first_after=first_after,
        searched_until=datetime.fromtimestamp(until, LONDON),
        without=tuple(without),
        unknown=unknown,
    )
