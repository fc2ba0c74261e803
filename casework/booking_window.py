"""Until when a Stage 2 meeting or a panel may be held, from the statutory timeline (ARCHITECTURE: Flow 3).

The window ends at the complaint-process duty the meeting meets (e.g. ``panel-convened``), less the
time the pack keeps for the letter that follows a panel (:func:`casework.slots.latest_meeting_end`).
A meeting that would end later is refused unless the reason for the delay is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from casework.citations import cite_text
from casework.clock import spoken, to_local_iso
from casework.errors import InvalidInput
from casework.events import Event
from casework.meeting_times import latest_meeting_end
from casework.packs import Area
from casework.periods import parse_period
from casework.purposes import purpose_of
from casework.timeline import Deadline, evaluate


@dataclass(frozen=True)
class BookingWindow:
    """Until when the meeting may be held: the statutory date, less the letter's time where the pack keeps it."""

    deadline: Deadline | None
    due: datetime | None
    latest_end: datetime | None
    explanation: str


def statutory_deadline(area: Area, events: Iterable[Event], now: datetime, purpose: str) -> Deadline | None:
    """The complaint-process duty the meeting meets (e.g. ``panel-convened``), the soonest dated one."""
    p = purpose_of(purpose)
    if "complaint" not in area.processes:
        return None
    timeline = evaluate(area, "complaint", list(events), now)
    candidates = [d for d in timeline.deadlines if p.completes in d.rule.completed_by]
    if not candidates:
        return None
    dated = [d for d in candidates if d.due is not None]
    return min(dated, key=lambda d: d.due or now) if dated else candidates[0]


def booking_window(
    area: Area,
    events: Iterable[Event],
    now: datetime,
    purpose: str,
    by: datetime | None = None,
    reserve_letter: bool = True,
) -> BookingWindow:
    """The latest end for the meeting; ``by`` (a date the manager gives) replaces an undated duty."""
    p = purpose_of(purpose)
    deadline = statutory_deadline(area, events, now, purpose)
    due = deadline.due if deadline is not None else None
    parts: list[str] = []
    if due is not None and deadline is not None:
        cited = cite_text(deadline.rule.source, area)
        parts.append(f"{deadline.rule.id} ({deadline.rule.title}) is due {to_local_iso(due)} [{cited}]")
    elif deadline is not None:
        parts.append(
            f"{deadline.rule.id} has no date yet ({deadline.status}: "
            f"{' or '.join(deadline.rule.starts) or 'no number of days is set'})"
        )
    if by is not None:
        due = by if due is None else min(due, by)
        parts.append(f"the date given is {to_local_iso(by)}")
    if due is None:
        return BookingWindow(deadline, None, None, "; ".join(parts) or f"no statutory date applies to the {p.title}")
    letter = area.panel.letter_time if (p.panel and area.panel is not None and reserve_letter) else None
    latest, why = latest_meeting_end(due, area.calendar, parse_period(letter) if letter else None)
    parts.append(f"latest end {why}")
    return BookingWindow(deadline, due, latest, "; ".join(parts))


def refuse_late_end(window: BookingWindow, end: datetime, delay_reason: str | None) -> None:
    """A meeting ending after the window is booked only with the reason for the delay recorded."""
    if window.latest_end is not None and end > window.latest_end and not (delay_reason or "").strip():
        raise InvalidInput(
            f"the meeting would end after {spoken(window.latest_end)} ({window.explanation}); "
            "choose an earlier slot, swap a member, or record the reason for the delay"
        )
