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

The reminder schedule is the service standard set out in the project's issue "Reminders and
digests"; the seeds set the deadlines, not the reminders, and each card cites the seed paragraph of
the deadline it is about.

Plans are computed from a case's timelines (:mod:`casework.timeline`) and its area's working-day
calendar; nothing here does I/O. Recipients are resolved from roles by the caller's
:class:`Recipients`: ``chair`` is the conference's chair, ``professional`` its attendees, any other
role the people holding it in the area, and a line manager is ``Person.line_manager_id``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from typing import Any, Protocol

from casework.calendar import WorkingCalendar
from casework.clock import LONDON
from casework.errors import CalendarRangeError, PackError
from casework.records import ROLES
from casework.rules import Candidate, Rule


# What a plan reads of casework.timeline's Dated, Deadline and Timeline. They are protocols, not imports:
# casework.packs imports this module (for the [reminders] table) and casework.timeline imports casework.packs.
class DatedView(Protocol):
    @property
    def candidate(self) -> Candidate: ...
    @property
    def start_event(self) -> str | None: ...
    @property
    def start(self) -> datetime | None: ...


class DeadlineView(Protocol):
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


DEFAULT_TIME = time(9, 0)

#: Who a planned reminder is for: the person responsible (or entitled), or their line manager.
RESPONSIBLE = "responsible"
MANAGER = "line_manager"

#: Row states a plan can ask for: ``pending`` (to send), ``skipped`` (its time had passed when it was
#: first planned and a later one for the same deadline and person had passed too: catching up sends
#: one reminder, not a burst) and ``notified`` (the person was told at once by a notice).
PENDING, SKIPPED, NOTIFIED = "pending", "skipped", "notified"


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
        if rule.id in self.rules:
            return self.rules[rule.id]
        if rule.kind == "window" and rule.process == "complaint":
            return self.plans["complaint_window"]
        return self.plans[rule.kind]


DEFAULT_SETTINGS = ReminderSettings()


# ----------------------------------------------------------------------------------- schedule


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
            if d.status in ("met", "late"):
                if d.rule.kind == "duty":  # a window's right is each person's: its cards stay as sent
                    met.add(d.rule.id)
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
                    state = NOTIFIED if (d.rule.id, slot.kind, person) in notified else PENDING
                    rows.append(
                        Reminder(
                            reminder_key(reference, d.rule.id, person, slot.send_at, slot.kind),
                            reference,
                            area_id,
                            tl.process,
                            d.rule.id,
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


# ----------------------------------------------------------------------------------- pack format

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
        start = overrides.get(rid) or kinds_only.plan_for(rule)
        overrides[rid] = _plan(errors, value, f"reminders.rules.{rid}", start)
    return ReminderSettings(plans, at, overrides), [PackError(origin, k, e) for k, e in errors]
