"""The optional ``[reminders]`` table of a procedure pack, validated into :class:`ReminderSettings`.

An area overrides the default plans (:mod:`casework.reminder_plans`) per kind of deadline and per
rule; a child pack starts from its parent's. Every problem is returned as a
:class:`~casework.errors.PackError` with its key, as for the rest of the pack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import time
from typing import Any

from casework.errors import PackError
from casework.records import ROLES
from casework.reminder_plans import DEFAULT_PLANS, DEFAULT_SETTINGS, ReminderPlan, ReminderSettings
from casework.rules import Rule

PLAN_KEYS: Mapping[str, str] = {
    "before": "a list of whole numbers of working days before the due date, e.g. [5, 2, 1]",
    "on_due_day": "true or false (a reminder at the set time on the due day, if it is a working day)",
    "on_open": "true or false (a reminder when the deadline's clock starts, e.g. when a window opens)",
    "overdue": "true or false (reminders after the due date; duties only)",
    "overdue_every": "a whole number of working days between overdue reminders (0: only one)",
    "overdue_repeats": "a whole number: how many overdue reminders are planned ahead at a time",
    "escalate": "true or false (overdue reminders also go to each recipient's line manager)",
    "copy_to": f"a list of roles also reminded, from {', '.join(ROLES)}",
}
PLAN_KINDS = tuple(DEFAULT_PLANS)


def _plan(errors: list[tuple[str, str]], raw: Any, where: str, base: ReminderPlan) -> ReminderPlan:
    if not isinstance(raw, Mapping):
        errors.append((where, "a table of reminder settings: " + ", ".join(PLAN_KEYS)))
        return base
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        k = f"{where}.{key}"
        if key not in PLAN_KEYS:
            errors.append((k, f"no such key; reminder plan keys are {', '.join(PLAN_KEYS)}"))
        elif key == "before":
            if not isinstance(value, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in value):
                errors.append((k, PLAN_KEYS[key]))
            elif any(n < 1 or n > 60 for n in value):
                errors.append((k, "working days between 1 and 60"))
            else:
                changes[key] = tuple(sorted(set(value), reverse=True))
        elif key in ("on_due_day", "on_open", "overdue", "escalate"):
            if not isinstance(value, bool):
                errors.append((k, PLAN_KEYS[key]))
            else:
                changes[key] = value
        elif key in ("overdue_every", "overdue_repeats"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 100:
                errors.append((k, PLAN_KEYS[key] + " between 0 and 100"))
            else:
                changes[key] = value
        elif key == "copy_to":
            if not isinstance(value, list) or any(r not in ROLES for r in value):
                errors.append((k, PLAN_KEYS[key]))
            else:
                changes[key] = tuple(value)
    return replace(base, **changes)


def parse_reminders(
    raw: Any, origin: str, rules: Mapping[str, Rule], parent: ReminderSettings | None = None
) -> tuple[ReminderSettings, list[PackError]]:
    """Validate a pack's optional ``[reminders]`` table; a child pack starts from its parent's plans.

    Format (every key optional; absent keys keep the default, or the parent pack's value)::

        [reminders]
        time = "09:00"                  # Europe/London time of working-day reminders
        [reminders.duty]                # also: [reminders.window], [reminders.complaint_window]
        before = [5, 2, 1]              # working days before the due date
        on_due_day = true
        overdue = true
        overdue_every = 2               # working days between overdue reminders
        overdue_repeats = 10            # planned ahead at a time; repeats until met
        escalate = true                 # overdue reminders also go to the line manager
        copy_to = []                    # roles also reminded, e.g. ["complaints_manager"]
        [reminders.rules.dissent-decision]   # one rule: starts from its kind's plan
        before = [3, 1]
    """
    base = parent or DEFAULT_SETTINGS
    if raw is None:
        return base, []
    if not isinstance(raw, Mapping):
        return base, [PackError(origin, "reminders", "a table [reminders]")]
    errors: list[tuple[str, str]] = []
    at = base.at
    plans = dict(base.plans)
    overrides = {rid: p for rid, p in base.rules.items() if rid in rules}
    allowed = {"time", "rules", *PLAN_KINDS}
    for key in raw:
        if key not in allowed:
            errors.append((f"reminders.{key}", f"no such key; expected {', '.join(sorted(allowed))}"))
    if "time" in raw:
        value = raw["time"]
        try:
            if not isinstance(value, str) or len(value) != 5:
                raise ValueError
            at = time.fromisoformat(value)
        except ValueError:
            errors.append(("reminders.time", 'a time of day HH:MM, e.g. "09:00" (Europe/London)'))
    for kind in PLAN_KINDS:
        if kind in raw:
            plans[kind] = _plan(errors, raw[kind], f"reminders.{kind}", plans[kind])
    raw_rules = raw.get("rules", {})
    if not isinstance(raw_rules, Mapping):
        errors.append(("reminders.rules", "a table of rule ids, each a table of reminder settings"))
        raw_rules = {}
    kinds_only = ReminderSettings(plans, at)
    for rid, value in raw_rules.items():
        rule = rules.get(rid)
        if rule is None:
            errors.append((f"reminders.rules.{rid}", "the id of one of this area's rules"))
            continue
        if rule.kind == "flag":
            errors.append((f"reminders.rules.{rid}", "a duty or a window: a flag is shown, never reminded"))
            continue
        start = overrides.get(rid) or kinds_only.plan_for(rule)
        overrides[rid] = _plan(errors, value, f"reminders.rules.{rid}", start)
    return ReminderSettings(plans, at, overrides), [PackError(origin, k, e) for k, e in errors]
