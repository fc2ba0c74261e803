"""Shared by every command handler: lookups, the case view, reminder planning."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from casework.errors import (
    NotEntitled,
    UnknownArea,
    UnknownConference,
    UnknownPerson,
)
from casework.events import Event
from casework.openness import has_open_work
from casework.packs import Area, typed_reference
from casework.permissions import (
    may_view,
)
from casework.ports import CaseStore
from casework.records import (
    CaseEvent,
    CaseFile,
    Conference,
    Notice,
    Person,
    PlanChange,
)
from casework.reminders import Recipients, Reminder, plan_case, roles_needed
from casework.results import CaseView
from casework.rules import Rule
from casework.timeline import Timeline, evaluate

# Cases loaded, and their plans written, per transaction by the morning replan: a few reads per
# batch, bounded memory, and a write lock held for a fraction of a second at a time.
REPLAN_BATCH = 100


@dataclass(frozen=True, slots=True)
class CaseReplan:
    """A case's reminder plan as casework computes it, with whether the case is still open
    (casework.openness), before either is stored."""

    reminders: tuple[Reminder, ...]
    met_rules: frozenset[str]
    still_open: bool


@dataclass
class CaseworkBase:
    """The lookups, case views and reminder planning every command shares.

    Commands write through ``store.unit_of_work()``: one action, one transaction (ARCHITECTURE:
    Writing), so its state change, events, audit entry, reminder rows and notices commit together.
    """

    store: CaseStore
    areas: Mapping[str, Area]
    now: Callable[[], datetime]

    # ------------------------------------------------------------------ lookups

    def reference(self, text: str) -> str:
        """A reference as typed, upper-cased: before its conference is found its area is not known,
        so it must be of the form of one of the areas' (``BadReference``, showing the forms, otherwise);
        a name typed as a reference is refused before any lookup."""
        return typed_reference(text, self.areas.values())

    def person(self, person_id: str) -> Person:
        p = self.store.get_person(person_id)
        if p is None:
            raise UnknownPerson()
        return p

    def conference(self, reference: str) -> Conference:
        """The conference of a typed reference (checked for its form first)."""
        return self.recorded_conference(self.reference(reference))

    def recorded_conference(self, reference: str) -> Conference:
        """The conference of a reference the system recorded (a dissent's, a notice's): not checked for
        its form, so that a case registered before the authority changed its pattern is still served."""
        c = self.store.get_conference(reference)
        if c is None:
            raise UnknownConference(reference)
        return c

    def area_of(self, conference: Conference) -> Area:
        area = self.areas.get(conference.area)
        if area is None:
            raise UnknownArea(conference.area, list(self.areas))
        return area

    def roles(self, person_id: str, area: str) -> set[str]:
        return self.store.roles_of(person_id, area)

    def _events(self, reference: str) -> list[CaseEvent]:
        return self.store.events_for(reference)

    @staticmethod
    def version_of(events: Sequence[CaseEvent]) -> str:
        """A short fingerprint of a case's events: a card drawn for one version is stale after a change."""
        h = hashlib.sha256()
        for e in sorted(events, key=lambda e: (e.at, e.name)):
            h.update(f"{e.name}@{e.at.isoformat()};".encode())
        return h.hexdigest()[:16]

    def _timeline(
        self, area: Area, process: str, events: Sequence[CaseEvent], discretion: Sequence[str] = ()
    ) -> Timeline:
        return evaluate(area, process, [Event(e.name, e.at) for e in events], self.now(), discretion)

    def _window_rule(self, area: Area) -> str | None:
        if "dissent" not in area.processes:
            return None
        for r in area.rules_for("dissent"):
            if r.kind == "window" and "dissent_raised" in r.completed_by:
                return r.id
        return None

    def window_due(self, conference: Conference, events: Sequence[CaseEvent] | None = None) -> datetime | None:
        """When the right to dissent from this conference closes (None: no window in this area).

        ``events`` are the case's events when the caller has read them already (one read per turn)."""
        area = self.area_of(conference)
        rule = self._window_rule(area)
        if rule is None:
            return None
        known = self._events(conference.reference) if events is None else events
        return self._timeline(area, "dissent", [e for e in known if e.name != "dissent_raised"]).get(rule).due

    def _record(self, reference: str, name: str, at: datetime, actor: str) -> None:
        self.store.record_event(CaseEvent(reference, name, at, actor))

    def _notify(self, notices: Sequence[Notice]) -> None:
        """Queue notices in the open unit of work: they are sent by the sweep after the commit."""
        self.store.add_notices(notices, self.now())

    # ------------------------------------------------------------------ reminders (ARCHITECTURE: Flows 4)

    def replan_open_cases(self) -> int:
        """Replan every open case once (the scheduler does this each working morning), so that a duty
        left unmet keeps its overdue reminders coming even when nothing else happens on the case.

        Only open cases are read (casework.openness): a change to a case marks it open again, so the
        cases changed since the last plan are among them, and one judged closed with nothing changed
        since would get the same empty plan again. Cases are loaded a few hundred at a time, and the
        people and role holders they name are read once for the run, not once per case.
        """
        return self._replan_each(self.store.open_cases_in(sorted(self.areas)))

    def _batches(self, references: Sequence[str]) -> Iterator[tuple[list[CaseFile], dict[str, _Lookups]]]:
        """The cases a few hundred at a time, with the people and role holders they name read once
        per batch (role holders once per area for the run), not once per case."""
        holders: dict[str, dict[str, list[Person]]] = {}
        for i in range(0, len(references), REPLAN_BATCH):
            cases = self.store.load_cases(references[i : i + REPLAN_BATCH])
            for area_id in {c.conference.area for c in cases} - holders.keys():
                holders[area_id] = self.store.role_holders(area_id)
            people = self.store.people_by_ids({pid for c in cases for pid in _named(c.conference)})
            yield cases, {area_id: _Lookups(holders[area_id], people) for area_id in {c.conference.area for c in cases}}

    def _replan_each(self, references: Sequence[str]) -> int:
        """Replan these cases, a batch at a time, each batch in one transaction (a commit is most of
        a small write's cost, so not two per case)."""
        count = 0
        for cases, lookups in self._batches(references):
            with self.store.unit_of_work() as uow:
                for case in cases:
                    self._replan_case(case, lookups[case.conference.area])
                    count += 1
                uow.commit()
        return count

    def replan_reminders(self, reference: str, notified: frozenset[tuple[str, str, str]] = frozenset()) -> PlanChange:
        """Recompute a case's reminder plan and store it; every change to a case calls this.

        The plan is :func:`casework.reminders.plan_case` over the case's timelines (as the status card
        shows them); recipients are resolved from roles here. A met deadline's pending reminders are
        cancelled and its sent cards marked for a "met" update; a moved date moves its reminders;
        rows already sent are never sent again (the store keeps them by idempotency key). The case's
        open flag is set from the same reading (casework.openness).
        """
        # Every caller passes a recorded reference, not a typed one: not checked for its form.
        case = self.store.load_case(reference)
        if case is None:
            return PlanChange()
        return self.replan_case(case, notified=notified)

    def replan_case(
        self, case: CaseFile, view: CaseView | None = None, notified: frozenset[tuple[str, str, str]] = frozenset()
    ) -> PlanChange:
        """:meth:`replan_reminders` for a case the command holds already, as it stands after the command's
        own writes, with its view when drawn already: a turn reads its case once and draws it once."""
        if case.conference.area not in self.areas:
            return PlanChange()
        return self._replan_case(case, _Lookups.of(self.store, case), notified, view)

    def _replan_case(
        self,
        case: CaseFile,
        lookups: _Lookups,
        notified: frozenset[tuple[str, str, str]] = frozenset(),
        view: CaseView | None = None,
    ) -> PlanChange:
        return self._store_plan(case, self._plan(case, lookups, notified, view))

    def _store_plan(self, case: CaseFile, plan: CaseReplan) -> PlanChange:
        """Store the plan and the open flag. Both join the action's (or the morning run's) unit of
        work; the flag's write is skipped when it is unchanged, as it mostly is."""
        reference = case.conference.reference
        change = self.store.replace_reminders(reference, plan.reminders, plan.met_rules, self.now())
        self.store.set_case_open(reference, plan.still_open)
        return change

    def _plan(
        self,
        case: CaseFile,
        lookups: _Lookups,
        notified: frozenset[tuple[str, str, str]] = frozenset(),
        view: CaseView | None = None,
    ) -> CaseReplan:
        """The case's reminder plan and whether it is still open, computed and not stored."""
        conference = case.conference
        area = self.areas[conference.area]
        view_timelines = (view or self._view(case)).timelines
        still_open = has_open_work((*self._work_timelines(case, view_timelines), *self.rights_timelines(case)))
        timelines = view_timelines
        if not any(not c.stage.startswith("closed") for c in case.complaints):
            # A closed complaint's remaining steps are not chased (000 §2, 001 5.7.10: its outcome ends it).
            timelines = tuple(t for t in timelines if t.process != "complaint")
        people: dict[str, Person] = {}
        by_role: dict[str, tuple[str, ...]] = {}
        for role in sorted(roles_needed(timelines, area.reminders)):
            if role == "chair" and conference.chair_id:
                continue
            found = lookups.holders.get(role, [])
            people.update((p.id, p) for p in found)
            by_role[role] = tuple(p.id for p in found)
        for pid in _named(conference):
            if pid not in people and (person := lookups.people.get(pid)) is not None:
                people[pid] = person
        recipients = Recipients(
            conference.chair_id,
            tuple(a.person_id for a in conference.attendees),
            by_role,
            {pid: p.line_manager_id for pid, p in people.items()},
        )
        # A linked Teams meeting that has started will report its end, which opens the dissent window.
        running = conference.meeting_chat_id is not None and conference.held_at and conference.ended_at is None
        expected = frozenset({"conference_ended"}) if running else frozenset()
        # A professional's right (to dissent, 001 5.7.4) is each attendee's own: one attendee's dissent
        # does not close it for the others. Once someone has used theirs, those windows are planned
        # apart, for the attendees who have not (their timelines leave the others' dissents out).
        used = self._rights_used(case)
        parts: list[tuple[Sequence[Timeline], Recipients]] = [(timelines, recipients)]
        if used:
            shared = tuple(replace(t, deadlines=[d for d in t.deadlines if not _own_right(d.rule)]) for t in timelines)
            unused = replace(recipients, attendees=tuple(p for p in recipients.attendees if p not in used))
            parts = [(shared, recipients), (self.rights_timelines(case), unused)]
        now = self.now()
        plans = [
            plan_case(conference.reference, area.id, area.calendar, tls, area.reminders, who, now, expected, notified)
            for tls, who in parts
        ]
        reminders = tuple(r for plan in plans for r in plan.reminders)
        met_rules = frozenset().union(*(plan.met_rules for plan in plans))
        return CaseReplan(reminders, met_rules, still_open)

    def _work_timelines(self, case: CaseFile, view_timelines: Sequence[Timeline]) -> tuple[Timeline, ...]:
        """The case's timelines whose deadlines someone may act on (``deadlines`` lists from them; with
        :meth:`rights_timelines` they are what casework.openness judges). A closed complaint's steps
        are left out (000 §2, 001 5.7.10); before any complaint, the family's window to make one is in."""
        area = self.area_of(case.conference)
        complaint_open = any(not c.stage.startswith("closed") for c in case.complaints)
        timelines = list(view_timelines)
        if not case.complaints and "complaint" in area.processes:
            timelines.append(self._timeline(area, "complaint", case.events))
            complaint_open = True
        return tuple(t for t in timelines if t.process != "complaint" or complaint_open)

    @staticmethod
    def _rights_used(case: CaseFile) -> frozenset[str]:
        """The attendees who have used their right to dissent (a dissent of theirs that still counts)."""
        return frozenset(d.person_id for d in case.dissents if d.state != "withdrawn")

    def rights_timelines(self, case: CaseFile) -> tuple[Timeline, ...]:
        """The professionals' own windows (rules a professional holds), as they stand for an attendee
        who has not dissented: computed without anyone's ``dissent_raised``."""
        area = self.area_of(case.conference)
        processes = [p for p in area.processes if any(_own_right(r) for r in area.rules_for(p))]
        events = [e for e in case.events if e.name != "dissent_raised"]
        out: list[Timeline] = []
        for process in processes:
            tl = self._timeline(area, process, events)
            out.append(replace(tl, deadlines=[d for d in tl.deadlines if _own_right(d.rule)]))
        return tuple(out)

    # ------------------------------------------------------------------ views

    def _case(self, reference: str) -> CaseFile:
        return self._recorded_case(self.reference(reference))

    def _recorded_case(self, reference: str) -> CaseFile:
        case = self.store.load_case(reference)
        if case is None:
            raise UnknownConference(reference)
        return case

    def view(self, actor: str, reference: str) -> CaseView:
        case = self._case(reference)
        conference = case.conference
        # The chair and the attendees, who ask most often, need no role lookup; anyone else needs an
        # oversight role in the case's area.
        roles = set() if may_view(actor, conference, set()) else self.store.roles_of(actor, conference.area)
        if not may_view(actor, conference, roles):
            raise NotEntitled(f"case {conference.reference} is visible to its chair, attendees and managers only")
        return self._view(case)

    def system_view(self, reference: str) -> CaseView:
        """The case as the system sees it, for drawing notices whose recipients casework chose."""
        return self._view(self._recorded_case(reference))

    def _view(self, case: CaseFile) -> CaseView:
        conference = case.conference
        area = self.area_of(conference)
        events, dissents, complaints = list(case.events), case.dissents, case.complaints
        discretion = ["dissent-window"] if any(d.late and d.state != "raised" for d in dissents) else []
        processes = [p for p in area.processes if p != "complaint" or complaints]
        timelines = tuple(self._timeline(area, p, events, discretion) for p in processes)
        return CaseView(
            conference,
            area,
            timelines,
            tuple(events),
            tuple(dissents),
            tuple(complaints),
            self.version_of(events),
            case.names,
        )


@dataclass(frozen=True)
class _Lookups:
    """Who the replan may name: the area's role holders by role, and people by id (chairs, attendees)."""

    holders: Mapping[str, Sequence[Person]]
    people: Mapping[str, Person]

    @classmethod
    def of(cls, store: CaseStore, case: CaseFile) -> _Lookups:
        """For one case: the role holders of its area and the people it names, in two reads."""
        return cls(store.role_holders(case.conference.area), store.people_by_ids(_named(case.conference)))


def _named(conference: Conference) -> list[str]:
    """The people a conference names: its chair and its attendees."""
    return [pid for pid in (conference.chair_id, *(a.person_id for a in conference.attendees)) if pid]


def _own_right(rule: Rule) -> bool:
    """A window that is each professional's own right (responsible: the professional, 001 5.7.4)."""
    return rule.kind == "window" and rule.responsible == "professional"
