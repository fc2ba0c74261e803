"""Reminder plans: which reminders a case's deadlines get, to whom (by role) and when.

A statutory deadline nobody is reminded of is missed. Every open deadline with a date gets the plan
of its kind, which an area may override in its pack (``[reminders]``, see :func:`parse_reminders`):

- a **duty** (what staff must do by a date): a card 5, 2 and 1 working days before the due date and
  on the due day, at 09:00 Europe/London on working days only; then an *overdue* card on the next
  working day after the due date, to the responsible person **and their line manager**, repeated
  every 2 working days until it is met (``overdue_repeats`` of them planned ahead at a time; the plan is
  recomputed whenever the case changes and every working morning for open cases, and the complaints
  manager's digest lists what is overdue and with whom).
  Escalating delay to the manager follows the seeds: the chair notifies their line manager
  (001_554f9f91afccd8e1.txt 5.7.7(2)); "where there is delay, this must be reported to the LA
  children's social care manager" (004_974a7b50b4cfbdbf.txt 8.1.10).
- a **window** (a right that expires, such as dissent within 72 hours, 001 5.7.4): a card to every
  person entitled to it when it opens ("you may record dissent until ..."), and none after it closes:
  lateness is the chair's matter (001 5.7.13), not something to prompt.
- a **complaint window** (the family's right to complain or to ask for the next stage, 000 §3,
  001 5.7.13 and 5.7.23): the chair and the complaints manager hear when it opens and one working day
  before it closes, so that a request arriving late is recognised as late.
- a **flag** (how long a conference lasted, 004_974a7b50b4cfbdbf.txt 8.9.10): none. It is shown on
  the timeline when exceeded and is nobody's work.

The reminder schedule is the service standard set out in the project's issue "Reminders and
digests"; the seeds set the deadlines, not the reminders, and each card cites the seed paragraph of
the deadline it is about.

Plans are computed from a case's timelines (:mod:`casework.timeline`) and its area's working-day
calendar; nothing here does I/O. Recipients are resolved from roles by the caller's
:class:`Recipients`: ``chair`` is the conference's chair, ``professional`` its attendees, any other
role the people holding it in the area, and a line manager is ``Person.line_manager_id``.

This module plans a case's reminder rows and is the one import path for the reminders' vocabulary;
the parts live by responsibility: the plans and an area's settings in :mod:`casework.reminder_plans`,
the moments of one deadline in :mod:`casework.reminder_schedule`, and the pack's ``[reminders]``
table in :mod:`casework.reminder_pack`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from casework.calendar import WorkingCalendar
from casework.reminder_pack import PLAN_KEYS, PLAN_KINDS, parse_reminders
from casework.reminder_plans import (
    COMPLAINT_WINDOW_PLAN,
    DEFAULT_PLANS,
    DEFAULT_SETTINGS,
    DEFAULT_TIME,
    DUTY_PLAN,
    WINDOW_PLAN,
    ReminderPlan,
    ReminderSettings,
)
from casework.reminder_schedule import DatedView, DeadlineView, Slot, TimelineView, schedule

__all__ = [
    "COMPLAINT_WINDOW_PLAN",
    "DEFAULT_PLANS",
    "DEFAULT_SETTINGS",
    "DEFAULT_TIME",
    "DUTY_PLAN",
    "MANAGER",
    "NOTIFIED",
    "PENDING",
    "PLAN_KEYS",
    "PLAN_KINDS",
    "RESPONSIBLE",
    "SKIPPED",
    "WINDOW_PLAN",
    "CasePlan",
    "DatedView",
    "DeadlineView",
    "Recipients",
    "Reminder",
    "ReminderPlan",
    "ReminderSettings",
    "Slot",
    "TimelineView",
    "parse_reminders",
    "plan_case",
    "reminder_key",
    "roles_needed",
    "schedule",
]


#: Who a planned reminder is for: the person responsible (or entitled), or their line manager.
RESPONSIBLE = "responsible"
MANAGER = "line_manager"

#: Row states a plan can ask for: ``pending`` (to send), ``skipped`` (its time had passed when it was
#: first planned and a later one for the same deadline and person had passed too: catching up sends
#: one reminder, not a burst) and ``notified`` (the person was told at once by a notice).
PENDING, SKIPPED, NOTIFIED = "pending", "skipped", "notified"


# ----------------------------------------------------------------------------------- recipients


@dataclass(frozen=True)
class Recipients:
    """Who holds each role for one case, gathered by the caller from the store."""

    chair: str | None
    attendees: tuple[str, ...]
    by_role: Mapping[str, tuple[str, ...]]
    managers: Mapping[str, str | None]

    def holders(self, role: str) -> tuple[str, ...]:
        if role == "chair":
            return (self.chair,) if self.chair else self.by_role.get("chair", ())
        if role == "professional":
            return self.attendees
        return self.by_role.get(role, ())


def roles_needed(timelines: Iterable[TimelineView], settings: ReminderSettings) -> set[str]:
    """The area roles (other than the chair and the attendees) a plan may need resolved."""
    roles: set[str] = set()
    for tl in timelines:
        for d in tl.deadlines:
            roles.add(d.rule.responsible)
            roles.update(settings.plan_for(d.rule).copy_to)
    roles.add("chair")  # the fallback when a conference has no chair recorded
    return roles - {"professional"}


# ----------------------------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder row: a deadline, a person, a moment and what to say."""

    key: str
    reference: str
    area: str
    process: str
    rule_id: str
    kind: str
    person_id: str
    audience: str
    send_at: datetime
    due: datetime | None
    state: str = PENDING


@dataclass(frozen=True)
class CasePlan:
    """Every reminder a case should have now, and the duties already met (their earlier cards are
    updated in place to say so)."""

    reminders: tuple[Reminder, ...]
    met_rules: frozenset[str]


def reminder_key(reference: str, rule_id: str, person_id: str, send_at: datetime, kind: str) -> str:
    """A stable idempotency key: the same reminder planned twice is stored (and sent) once."""
    stamp = send_at.astimezone(UTC).isoformat()
    return hashlib.sha256(f"{reference}|{rule_id}|{person_id}|{stamp}|{kind}".encode()).hexdigest()[:40]


def _open(d: DeadlineView) -> bool:
    return d.applicable and d.status in ("pending", "missed") and d.due is not None


def plan_case(
    reference: str,
    area_id: str,
    calendar: WorkingCalendar,
    timelines: Sequence[TimelineView],
    settings: ReminderSettings,
    recipients: Recipients,
    now: datetime,
    expected: frozenset[str] = frozenset(),
    notified: frozenset[tuple[str, str, str]] = frozenset(),
) -> CasePlan:
    """The reminders of one case as at ``now``.

    Met (or done late) deadlines get none, so their pending reminders are cancelled by whoever stores
    the plan; a moved date gives new moments (and new keys), so the old ones are cancelled and the new
    ones planned. A window that has closed gets none. Of the reminders whose moment has already
    passed, only the latest for each deadline and person is ``pending`` (catching up sends one card,
    not a burst); the others are ``skipped``. ``notified`` holds (rule, kind, person) triples the
    caller has just told through a notice (the meeting-end card): those are stored as ``notified``.
    """
    rows: list[Reminder] = []
    met: set[str] = set()
    for tl in timelines:
        for d in tl.deadlines:
            if d.rule.kind == "flag":  # shown, never reminded (ReminderSettings.plan_for)
                continue
            if d.status in ("met", "late"):
                if d.rule.kind == "duty":  # a window's right is each person's: its cards stay as sent
                    met.add(d.id)
                continue
            if not _open(d):
                continue
            assert d.due is not None
            if d.rule.kind == "window" and now >= d.due:
                continue
            plan = settings.plan_for(d.rule)
            slots = schedule(d, plan, calendar, settings.at, expected, now)
            if not slots:
                continue
            people = list(dict.fromkeys(recipients.holders(d.rule.responsible)))
            for role in plan.copy_to:
                people.extend(p for p in recipients.holders(role) if p not in people)
            for slot in slots:
                targets = [(p, RESPONSIBLE) for p in people]
                if slot.escalate:
                    for p in people:
                        m = recipients.managers.get(p)
                        if m and m not in people and all(t[0] != m for t in targets):
                            targets.append((m, MANAGER))
                for person, audience in targets:
                    state = NOTIFIED if (d.id, slot.kind, person) in notified else PENDING
                    rows.append(
                        Reminder(
                            reminder_key(reference, d.id, person, slot.send_at, slot.kind),
                            reference,
                            area_id,
                            tl.process,
                            d.id,
                            slot.kind,
                            person,
                            audience,
                            slot.send_at,
                            d.due.astimezone(UTC),
                            state,
                        )
                    )
    return CasePlan(tuple(_catch_up(rows, now)), frozenset(met))


def _catch_up(rows: list[Reminder], now: datetime) -> list[Reminder]:
    latest: dict[tuple[str, str], datetime] = {}
    for r in rows:
        if r.send_at <= now:
            k = (r.rule_id, r.person_id)
            if k not in latest or r.send_at > latest[k]:
                latest[k] = r.send_at
    out: list[Reminder] = []
    for r in rows:
        if r.state == PENDING and r.send_at <= now and r.send_at < latest[(r.rule_id, r.person_id)]:
            r = replace(r, state=SKIPPED)
        out.append(r)
    return out
