"""Timelines: the rules of one case evaluated against its events.

Each deadline carries its due time, status and an explanation a complaints manager can defend to
the Ombudsman: the start, the rule and its citation, and every bank holiday or closure day skipped
(casework.explanations). How one rule is dated is in casework.dating; rules that repeat for each
review are in casework.repeats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casework.areas import Area
from casework.clock import LONDON
from casework.dating import evaluate_rule
from casework.deadline import STATUSES, Dated, Deadline
from casework.events import Event, index_events
from casework.repeats import evaluate_each

__all__ = ["STATUSES", "Dated", "Deadline", "Timeline", "evaluate", "rag", "soonest_first"]


@dataclass(slots=True)
class Timeline:
    area: Area
    process: str
    deadlines: list[Deadline]
    now: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "area": self.area.id,
            "process": self.process,
            "timezone": "Europe/London",
            "deadlines": [d.as_dict() for d in self.deadlines],
        }

    def get(self, deadline_id: str) -> Deadline:
        """The deadline with this id (``rule`` or ``rule#n``); a repeating rule's bare id gives its
        latest occurrence."""
        found = [d for d in self.deadlines if d.id == deadline_id or d.rule.id == deadline_id]
        if not found:
            raise KeyError(deadline_id)
        exact = [d for d in found if d.id == deadline_id]
        return exact[0] if exact else found[-1]


def evaluate(
    area: Area,
    process: str,
    events: Iterable[Event],
    now: datetime,
    discretion: Iterable[str] = (),
) -> Timeline:
    """Every deadline of ``process`` in ``area`` for these events, as at ``now``.

    ``discretion`` names window rules whose late exercise the person the procedure names has
    accepted (000 §3; 001 5.7.13); they stay ``late`` (the lateness is a fact) and carry
    ``discretion_recorded``.
    """
    rules = area.rules_for(process)
    by_name = index_events(events, area.events, area.id)
    accepted = frozenset(discretion)
    out: list[Deadline] = []
    for rule in rules:
        if rule.each:
            out.extend(evaluate_each(area, rule, by_name, now, rule.id in accepted))
            continue
        d = evaluate_rule(area, rule, by_name, now, rule.id in accepted)
        if d is not None:
            out.append(d)
    return Timeline(area, process, out, now)


def soonest_first(deadlines: Sequence[Deadline]) -> list[Deadline]:
    """Open deadlines by due time, undated last: the order a responsible person should see them."""
    far = datetime.max.replace(tzinfo=LONDON)
    return sorted(deadlines, key=lambda d: d.due or far)


AMBER_WORKING_DAYS = 2


def rag(d: Deadline, now: datetime) -> str:
    """Red / amber / green for a chair scanning a card: ``red`` missed or late, ``amber`` open and due
    within two working days (or today), ``green`` met or comfortably open, ``grey`` not started."""
    if d.status in ("missed", "late"):
        return "red"
    if d.status == "met":
        return "green"
    if d.status == "waiting" or d.due is None:
        return "grey"
    today = now.astimezone(LONDON).date()
    due_day = d.due.astimezone(LONDON).date()
    if due_day <= today:
        return "amber"
    horizon = d.area.calendar.add_working_days(today, AMBER_WORKING_DAYS)
    return "amber" if due_day <= horizon else "green"
