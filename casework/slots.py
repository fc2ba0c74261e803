"""Free slots for a panel or a Stage 2 meeting: pure interval arithmetic, no I/O (ARCHITECTURE: Flow 3).

Inputs are each participant's busy blocks as aware datetimes (what ``getSchedule`` returns, or the
bot's own bookings when no tenant is configured), the working hours in Europe/London, the area's
:class:`~casework.calendar.WorkingCalendar` and the window: from ``earliest`` (now, or later) to
``latest_end`` (the statutory date, less the time the pack keeps for the letter; see
:func:`latest_meeting_end`). The answer is the best few slots, earliest first, when every
participant and the room are free; or, when there is none, a :class:`Shortfall` saying who is busy
on which days, the first slot after the deadline, and the earliest slot without each participant,
so that the complaints manager can swap a member or record the reason for the delay.

This module is the search and the one import path for its vocabulary; the parts live by
responsibility: free/busy statuses in :mod:`casework.free_busy`, working hours, slots and the latest
end in :mod:`casework.meeting_times`, the interval arithmetic on integer seconds (which keeps 09:00
at 09:00 either side of a clock change) in :mod:`casework.free_time`, and the shortfall in
:mod:`casework.shortfall`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from casework.calendar import WorkingCalendar
from casework.clock import LONDON
from casework.errors import InvalidInput
from casework.free_busy import STATUSES, Busy, blocks, normalise_status
from casework.free_time import Interval, blocking, first_fits, merge, seconds, seconds_ceil, to_slot, working_spans
from casework.meeting_times import Slot, WorkingHours, describe_time, latest_meeting_end
from casework.shortfall import DayReport, Shortfall, explain_shortfall

__all__ = [
    "STATUSES",
    "Busy",
    "DayReport",
    "Interval",
    "Shortfall",
    "Slot",
    "SlotSearch",
    "WorkingHours",
    "blocks",
    "describe_time",
    "find_slots",
    "latest_meeting_end",
    "normalise_status",
]


@dataclass(frozen=True)
class SlotSearch:
    slots: tuple[Slot, ...]
    window_start: datetime
    window_end: datetime
    shortfall: Shortfall | None
    notes: tuple[str, ...] = ()


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
    lo, hi = seconds_ceil(earliest), seconds(latest_end)
    per: dict[str, list[Interval]] = {who: blocking(items, tentative_blocks) for who, items in busy.items()}
    union = merge(iv for ivs in per.values() for iv in ivs)
    days = working_spans(calendar, hours, lo, hi)
    found = first_fits(union, days, st, dur, count, one_per_day)
    start_l = datetime.fromtimestamp(lo, LONDON)
    end_l = latest_end.astimezone(LONDON)
    unknown_t = tuple(unknown)
    notes = (f"Availability unknown for: {', '.join(unknown_t)}; check with them before booking.",) if unknown_t else ()
    if found:
        return SlotSearch(tuple(to_slot(iv) for iv in found), start_l, end_l, None, notes)
    shortfall = explain_shortfall(
        per,
        union,
        days,
        calendar=calendar,
        hours=hours,
        lo=lo,
        hi=hi,
        window_start=start_l,
        window_end=end_l,
        step=st,
        duration=duration,
        search_until=search_until,
        unknown=unknown_t,
    )
    return SlotSearch((), start_l, end_l, shortfall, notes)
