"""Reminder plans: which reminders each kind of deadline gets, and when (the service standard).

The default plans, as :mod:`casework.reminders` sets them out with their seed paragraphs: a **duty**
is reminded 5, 2 and 1 working days before its due date and on the due day, then overdue every 2
working days with the line manager copied (001_554f9f91afccd8e1.txt 5.7.7(2);
004_974a7b50b4cfbdbf.txt 8.1.10); a **window** when it opens (001 5.7.4), and never after it closes
(001 5.7.13); a **complaint window** (000 §3, 001 5.7.13 and 5.7.23) when it opens and one working
day before it closes, to the chair and the complaints manager. An area may override them in its
pack (:mod:`casework.reminder_pack`); the validated settings live on :class:`~casework.areas.Area`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

from casework.rules import Rule

DEFAULT_TIME = time(9, 0)


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    """How one kind of deadline is reminded. Days are working days of the area's calendar."""

    before: tuple[int, ...] = ()
    on_due_day: bool = False
    on_open: bool = False
    overdue: bool = False
    overdue_every: int = 2
    overdue_repeats: int = 10
    escalate: bool = True
    copy_to: tuple[str, ...] = ()


#: A flag (how long a conference lasted, 004 8.9.10) is shown on the timeline and never reminded.
NO_REMINDERS = ReminderPlan()
DUTY_PLAN = ReminderPlan(before=(5, 2, 1), on_due_day=True, overdue=True)
WINDOW_PLAN = ReminderPlan(on_open=True)
COMPLAINT_WINDOW_PLAN = ReminderPlan(on_open=True, before=(1,), copy_to=("chair", "complaints_manager"))
DEFAULT_PLANS: Mapping[str, ReminderPlan] = {
    "duty": DUTY_PLAN,
    "window": WINDOW_PLAN,
    "complaint_window": COMPLAINT_WINDOW_PLAN,
}


@dataclass(frozen=True)
class ReminderSettings:
    """An area's reminder plans: one per kind (``duty``, ``window``, ``complaint_window``), the time of
    day of working-day reminders, and per-rule overrides."""

    plans: Mapping[str, ReminderPlan] = field(default_factory=lambda: dict(DEFAULT_PLANS))
    at: time = DEFAULT_TIME
    rules: Mapping[str, ReminderPlan] = field(default_factory=dict)

    def plan_for(self, rule: Rule) -> ReminderPlan:
        if rule.kind == "flag":
            return NO_REMINDERS
        if rule.id in self.rules:
            return self.rules[rule.id]
        if rule.kind == "window" and rule.process == "complaint":
            return self.plans["complaint_window"]
        return self.plans[rule.kind]


DEFAULT_SETTINGS = ReminderSettings()
