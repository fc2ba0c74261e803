"""When one deadline is reminded: the moments of its plan on the area's working-day calendar.

Reminders are sent at the plan's time of day (09:00 Europe/London by default) on working days only;
nothing is planned before the deadline's clock started, and for a window nothing at or after its
close (lateness is the chair's matter, 001 5.7.13). Overdue reminders repeat until the duty is met
(004_974a7b50b4cfbdbf.txt 8.1.10: delay must be reported).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, Protocol

from casework.calendar import WorkingCalendar
from casework.clock import LONDON
from casework.errors import CalendarRangeError
from casework.reminder_plans import DEFAULT_TIME, ReminderPlan
from casework.rules import Candidate, Rule


# What a plan reads of casework.timeline's Dated, Deadline and Timeline. They are protocols, not imports:
# casework.timeline imports the pack (casework.packs, casework.areas), which imports the reminder
# plans, and the reminder modules stay below the timeline.
class DatedView(Protocol):
    @property
    def candidate(self) -> Candidate: ...
    @property
    def start_event(self) -> str | None: ...
    @property
    def start(self) -> datetime | None: ...


class DeadlineView(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def rule(self) -> Rule: ...
    @property
    def due(self) -> datetime | None: ...
    @property
    def status(self) -> str: ...
    @property
    def applicable(self) -> bool: ...
    @property
    def chosen(self) -> DatedView | None: ...


class TimelineView(Protocol):
    @property
    def process(self) -> str: ...
    @property
    def deadlines(self) -> Sequence[DeadlineView]: ...


@dataclass(frozen=True, slots=True)
class Slot:
    """One planned moment for one deadline: ``kind`` is ``opened``, ``before-N``, ``due`` or
    ``overdue-N``; ``audience`` says whether line managers get it too."""

    kind: str
    send_at: datetime
    escalate: bool = False


def _at(day: Any, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def schedule(
    deadline: DeadlineView,
    plan: ReminderPlan,
    calendar: WorkingCalendar,
    at: time = DEFAULT_TIME,
    expected: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> list[Slot]:
    """The moments one open, dated deadline is reminded at, soonest first (UTC).

    Overdue reminders repeat until the duty is met: ``overdue_repeats`` counts those still ahead of
    ``now`` (all of them when ``now`` is before the due date), and the daily replan of open cases
    extends the series, so a duty left unmet keeps escalating however long it is overdue.

    Nothing is planned before the deadline's clock started (a duty that starts three working days
    before it falls due has no "5 days before" card), and for a window nothing at or after its close.
    ``expected`` names events the case is still waiting for: a window that would open on a fallback
    event (the conference's start) while its first event (the conference's end) is still expected
    opens when that arrives, so no one is told "you may dissent" during the meeting.
    """
    due = deadline.due
    chosen = deadline.chosen
    if due is None or chosen is None or chosen.start is None:
        return []
    start = chosen.start.astimezone(UTC)
    due_utc = due.astimezone(UTC)
    window = deadline.rule.kind == "window"
    due_day = due.astimezone(LONDON).date()
    out: list[Slot] = []
    if plan.on_open:
        of = chosen.candidate.of
        waiting_for_better = bool(of) and chosen.start_event != of[0] and of[0] in expected
        if not waiting_for_better and start < due_utc:
            out.append(Slot("opened", start))
    try:
        for n in sorted(set(plan.before), reverse=True):
            send = _at(calendar.subtract_working_days(due_day, n), at)
            if start <= send < due_utc:
                out.append(Slot(f"before-{n}", send))
        if plan.on_due_day and calendar.is_working_day(due_day):
            send = _at(due_day, at)
            if start <= send < due_utc:
                out.append(Slot("due", send))
        if plan.overdue and not window:
            day = calendar.add_working_days(due_day, 1)
            repeats = plan.overdue_repeats if plan.overdue_every > 0 else min(plan.overdue_repeats, 1)
            ahead = 0
            i = 0
            while ahead < repeats:
                if i:
                    if plan.overdue_every <= 0:
                        break
                    day = calendar.add_working_days(day, plan.overdue_every)
                send = _at(day, at)
                out.append(Slot(f"overdue-{i + 1}", send, plan.escalate))
                if now is None or send > now:
                    ahead += 1
                i += 1
    except CalendarRangeError:
        pass  # beyond the calendar's years: nothing more can be dated
    seen: set[datetime] = set()
    unique: list[Slot] = []
    for s in sorted(out, key=lambda s: s.send_at):
        if s.send_at not in seen or s.kind == "opened":
            seen.add(s.send_at)
            unique.append(s)
    return unique
