"""The casework service: one method per command, each checking who may act and in what state.

Entry points (the Teams bot, the command line) translate their input into these calls and render
what comes back; no business rule lives in a handler, a card or a job (ARCHITECTURE: Style).
Each state change writes an audit entry; notices say who must hear about it, and the edge decides
how (a proactive card, or email when the person cannot be reached in Teams).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from casework.clock import spoken, to_local_iso
from casework.errors import (
    AlreadyDone,
    EventOrderError,
    InvalidInput,
    NotEntitled,
    StaleAction,
    UnknownArea,
    UnknownConference,
    UnknownPerson,
)
from casework.events import Event, index_events
from casework.packs import Area
from casework.permissions import (
    AUDIT_ROLES,
    COMPLAINT_ROLES,
    DECIDE_ROLES,
    STAGE_ROLES,
    is_attendee,
    may_view,
    require_any,
    require_attendee,
    require_chair,
)
from casework.ports import CaseStore
from casework.records import (
    COMPLAINANT_ROLES,
    AuditEntry,
    CaseEvent,
    CaseFile,
    Complaint,
    Conference,
    Dissent,
    Person,
    PlanChange,
)
from casework.references import normalise_reference
from casework.reminders import Recipients, plan_case, roles_needed
from casework.timeline import Deadline, Timeline, evaluate

COMPLAINT_GROUNDS: Mapping[str, str] = {
    "organisation": "The organisation or running of the conference",
    "outcome": "The outcome, including the category of concern",
    "decision": "The decision on a child protection plan",
}
"""000 §2 and 001 5.7.8: what children and families may complain about."""

OUTCOMES: Mapping[str, str] = {
    "reconvene": "Conference reconvened under a different chair",
    "review_forward": "Review conference brought forward",
    "confirmed": "Decision confirmed, with an explanation",
}
"""000 §2, 001 5.7.10, 004 8.17.4: the only three results of a complaint."""

STEP_EVENTS: Mapping[str, tuple[str, ...]] = {
    "stage2": (
        "stage1_meeting_held",
        "stage1_response_sent",
        "stage1_response_received",
        "stage2_requested",
        "stage2_meeting_held",
        "stage2_letter_sent",
        "stage2_letter_received",
    ),
    "panel": ("stage3_requested", "panel_held", "panel_letter_sent"),
}

STAGE_EVENTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("panel", frozenset({"stage3_requested", "panel_held", "panel_letter_sent"})),
    ("stage2", frozenset({"stage2_requested", "stage2_meeting_held", "stage2_letter_sent", "stage2_letter_received"})),
)
"""The furthest stage a case's events show (000 §3 Stage 1/Stage 2; 001 5.7.12-5.7.30 Stages 1-3)."""


def complaint_stage(event_names: set[str] | frozenset[str]) -> str:
    """``stage1``, ``stage2`` or ``panel``: the stage an open complaint has reached, from its events."""
    for stage, names in STAGE_EVENTS:
        if event_names & names:
            return stage
    return "stage1"


MIN_REASON = 10
MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class Notice:
    """Someone must hear about something: ``kind`` names what, the edge chooses the card."""

    kind: str
    person_id: str
    reference: str
    dissent_id: int | None = None


@dataclass(frozen=True)
class DissentRaised:
    dissent: Dissent
    conference: Conference
    window_due: datetime | None
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class Changed:
    """A state change made (or, with ``repeated``, found already made: nothing changed)."""

    reference: str
    summary: str
    notices: tuple[Notice, ...] = ()
    dissent: Dissent | None = None


@dataclass(frozen=True)
class CaseView:
    conference: Conference
    area: Area
    timelines: tuple[Timeline, ...]
    events: tuple[CaseEvent, ...]
    dissents: tuple[Dissent, ...]
    complaints: tuple[Complaint, ...]
    version: str


@dataclass(frozen=True)
class Due:
    reference: str
    deadline: Deadline


@dataclass
class Casework:
    store: CaseStore
    areas: Mapping[str, Area]
    now: Callable[[], datetime]

    # ------------------------------------------------------------------ lookups

    def person(self, person_id: str) -> Person:
        p = self.store.get_person(person_id)
        if p is None:
            raise UnknownPerson()
        return p

    def conference(self, reference: str) -> Conference:
        ref = normalise_reference(reference)
        c = self.store.get_conference(ref)
        if c is None:
            raise UnknownConference(ref)
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

    def window_due(self, conference: Conference) -> datetime | None:
        """When the right to dissent from this conference closes (None: no window in this area)."""
        area = self.area_of(conference)
        rule = self._window_rule(area)
        if rule is None:
            return None
        events = [e for e in self._events(conference.reference) if e.name != "dissent_raised"]
        return self._timeline(area, "dissent", events).get(rule).due

    def _record(self, reference: str, name: str, at: datetime, actor: str) -> None:
        self.store.record_event(CaseEvent(reference, name, at, actor))

    # ------------------------------------------------------------------ dissent (001 5.7.4-5.7.7; 004 8.13)

    def open_windows(self, person_id: str) -> list[tuple[Conference, datetime | None]]:
        """Conferences this person attended whose dissent window is open now (or that have none)."""
        now = self.now()
        out: list[tuple[Conference, datetime | None]] = []
        for c in self.store.conferences_attended_by(person_id):
            if c.held_at is None or c.area not in self.areas:
                continue
            due = self.window_due(c)
            if due is None or now <= due:
                out.append((c, due))
        return out

    def raise_dissent(
        self, person_id: str, reference: str | None, reason: str, chat_id: str | None = None
    ) -> DissentRaised:
        """A professional dissents. Only attendees may; a late dissent is flagged, never refused (001 5.7.4)."""
        person = self.person(person_id)
        if reference:
            conference = self.conference(reference)
        elif chat_id and (linked := self.store.conference_for_chat(chat_id)) is not None:
            conference = linked
        else:
            raise InvalidInput("which conference? Type: dissent CPC-123 <your reason>")
        reason = " ".join(reason.split())
        if len(reason) < MIN_REASON:
            raise InvalidInput(
                f"give your reason, at least {MIN_REASON} characters: dissent {conference.reference} <your reason>"
            )
        if len(reason) > MAX_TEXT:
            raise InvalidInput(f"the reason is too long ({len(reason)} characters; at most {MAX_TEXT})")
        require_attendee(person_id, conference)
        if conference.held_at is None:
            raise InvalidInput(f"conference {conference.reference} has not been held yet; dissent follows its decision")
        for d in self.store.dissents_for(conference.reference):
            if d.person_id == person_id and d.state in ("raised", "recorded"):
                raise AlreadyDone(
                    f"you already recorded dissent from {conference.reference} on {spoken(d.raised_at)}; "
                    "it is with the chair and the reviewing manager"
                )
        now = self.now()
        due = self.window_due(conference)
        late = due is not None and now > due
        agency = next((a.agency for a in conference.attendees if a.person_id == person_id), person.agency)
        dissent = self.store.add_dissent(Dissent(None, conference.reference, person_id, agency, reason, now, late))
        self._record(conference.reference, "dissent_raised", now, person_id)
        self.store.append_audit(
            person_id,
            "dissent.raised",
            conference.reference,
            {"dissent": dissent.id, "agency": agency, "late": late},
        )
        self.replan_reminders(conference.reference)
        notices: list[Notice] = []
        if conference.chair_id:
            notices.append(Notice("chair_prompt", conference.chair_id, conference.reference, dissent.id))
        else:
            notices.extend(
                Notice("chair_prompt", p.id, conference.reference, dissent.id)
                for p in self.store.people_with_role("head_of_safeguarding", conference.area)
            )
        return DissentRaised(dissent, conference, due, tuple(notices))

    def _dissent(self, dissent_id: int) -> tuple[Dissent, Conference]:
        d = self.store.get_dissent(dissent_id)
        if d is None:
            raise InvalidInput(f"there is no dissent {dissent_id} on record")
        return d, self.conference(d.reference)

    def record_dissent(self, actor: str, dissent_id: int, drawn_state: str) -> Changed:
        """The chair records the dissent in the Chair's Summary and Plan and notifies their line manager
        (001 5.7.7(2)); recording a late dissent is the chair's recorded discretion to accept it."""
        d, conference = self._dissent(dissent_id)
        require_chair(actor, conference, self.roles(actor, conference.area))
        if d.state != drawn_state:
            if d.state != "raised" and drawn_state == "raised":
                raise AlreadyDone(
                    f"this dissent from {d.reference} is already recorded (it is now {d.state.replace('_', ' ')})"
                )
            raise StaleAction("this card is out of date; the current state is shown")
        if not self.store.transition_dissent(dissent_id, ("raised",), "recorded"):
            raise AlreadyDone(f"this dissent from {d.reference} is already recorded")
        now = self.now()
        self._record(d.reference, "dissent_recorded", now, actor)
        self.store.append_audit(
            actor,
            "dissent.recorded",
            d.reference,
            {"dissent": dissent_id, "late_accepted_at_discretion": d.late},
        )
        self.replan_reminders(d.reference)
        notices: list[Notice] = []
        chair = self.store.get_person(actor)
        if chair and chair.line_manager_id:
            notices.append(Notice("line_manager_notice", chair.line_manager_id, d.reference, dissent_id))
        notices.extend(
            Notice("decision_request", p.id, d.reference, dissent_id)
            for p in self.store.people_with_role("head_of_safeguarding", conference.area)
        )
        return Changed(
            d.reference,
            "Dissent recorded in the Chair's Summary and Plan",
            tuple(notices),
            replace(d, state="recorded"),
        )

    def decide_dissent(self, actor: str, dissent_id: int, uphold: bool, reasons: str, drawn_state: str) -> Changed:
        """The reviewing manager upholds (and the conference reconvenes within 15 working days) or
        does not, with reasons, within 10 working days of the conference (001 5.7.7(3)-(4))."""
        d, conference = self._dissent(dissent_id)
        require_any(self.roles(actor, conference.area), DECIDE_ROLES, "deciding on a dissent")
        reasons = " ".join(reasons.split())
        if len(reasons) < MIN_REASON:
            raise InvalidInput(f"give the reasons for the decision (at least {MIN_REASON} characters)")
        if d.state in ("upheld", "not_upheld"):
            raise AlreadyDone(f"the dissent from {d.reference} was already decided: {d.state.replace('_', ' ')}")
        if d.state != drawn_state:
            raise StaleAction("this card is out of date; the current state is shown")
        new = "upheld" if uphold else "not_upheld"
        if not self.store.transition_dissent(dissent_id, ("raised", "recorded"), new):
            raise AlreadyDone(f"the dissent from {d.reference} was already decided")
        now = self.now()
        self._record(d.reference, f"dissent_{new}", now, actor)
        self.store.append_audit(actor, f"dissent.{new}", d.reference, {"dissent": dissent_id, "reasons": reasons})
        self.replan_reminders(d.reference)
        notices = [Notice("decision_made", d.person_id, d.reference, dissent_id)]
        if conference.chair_id:
            notices.append(Notice("decision_made", conference.chair_id, d.reference, dissent_id))
        summary = "Dissent upheld: reconvene the conference" if uphold else "Dissent not upheld"
        return Changed(d.reference, summary, tuple(notices), replace(d, state=new))

    # ------------------------------------------------------------------ complaints (000 §3; 001 5.7.8-5.7.39)

    def record_complaint(
        self,
        actor: str,
        reference: str,
        received_at: datetime,
        complainant_role: str,
        grounds: str,
        summary: str,
    ) -> Changed:
        conference = self.conference(reference)
        roles = self.roles(actor, conference.area)
        if conference.chair_id != actor:
            require_any(roles, COMPLAINT_ROLES, "recording a complaint")
        if complainant_role not in COMPLAINANT_ROLES:
            raise InvalidInput(f"complainant must be one of: {', '.join(COMPLAINANT_ROLES)} (never a name)")
        if grounds not in COMPLAINT_GROUNDS:
            raise InvalidInput(f"grounds must be one of: {', '.join(COMPLAINT_GROUNDS)}")
        if received_at > self.now():
            raise InvalidInput("the date received cannot be in the future")
        if conference.held_at and received_at < conference.held_at:
            raise InvalidInput(f"the complaint cannot be received before conference {conference.reference} was held")
        summary = " ".join(summary.split())[:MAX_TEXT]
        existing = self.store.complaints_for(conference.reference)
        if any(c.received_at == received_at and c.complainant_role == complainant_role for c in existing):
            raise AlreadyDone(f"this complaint about {conference.reference} is already recorded")
        complaint = self.store.add_complaint(
            Complaint(None, conference.reference, conference.area, received_at, complainant_role, grounds, summary)
        )
        self._record(conference.reference, "complaint_received", received_at, actor)
        self.store.append_audit(
            actor,
            "complaint.received",
            conference.reference,
            {"complaint": complaint.id, "complainant": complainant_role, "grounds": grounds},
        )
        self.replan_reminders(conference.reference)
        notices = tuple(
            Notice("complaint_logged", p.id, conference.reference)
            for p in self.store.people_with_role("complaints_manager", conference.area)
            if p.id != actor
        )
        return Changed(conference.reference, "Complaint recorded: Stage 1 has started", notices)

    def record_step(self, actor: str, reference: str, command: str, event: str, at: datetime, version: str) -> Changed:
        """A complaint stage event (stage2/panel commands), from a card drawn for ``version``."""
        conference = self.conference(reference)
        area = self.area_of(conference)
        require_any(self.roles(actor, conference.area), STAGE_ROLES, f"recording {command} steps")
        allowed = [e for e in STEP_EVENTS.get(command, ()) if e in area.events]
        if event not in allowed:
            raise InvalidInput(f"{command} records one of: {', '.join(allowed)}")
        if not self.store.complaints_for(conference.reference):
            raise InvalidInput(
                f"there is no complaint about {conference.reference}; record one with: complaint {conference.reference}"
            )
        if at > self.now():
            raise InvalidInput("the date cannot be in the future")
        events = self._events(conference.reference)
        if any(e.name == event and e.at == at for e in events):
            raise AlreadyDone(
                f"{event.replace('_', ' ')} on {spoken(at)} is already recorded for {conference.reference}"
            )
        if version != self.version_of(events):
            raise StaleAction("this card is out of date: the case changed since it was drawn; the current one is shown")
        try:
            index_events([Event(e.name, e.at) for e in events] + [Event(event, at)], area.events, area.id)
        except EventOrderError as exc:
            raise InvalidInput(str(exc)) from None
        self._record(conference.reference, event, at, actor)
        stage = complaint_stage({e.name for e in events} | {event})
        for c in self.store.complaints_for(conference.reference):
            if c.id is not None and not c.stage.startswith("closed") and c.stage != stage:
                self.store.set_complaint_stage(c.id, stage)
        self.store.append_audit(actor, f"complaint.{event}", conference.reference, {"at": to_local_iso(at)})
        self.replan_reminders(conference.reference)
        return Changed(conference.reference, f"Recorded: {event.replace('_', ' ')}")

    def record_outcome(self, actor: str, reference: str, outcome: str, version: str) -> Changed:
        conference = self.conference(reference)
        require_any(self.roles(actor, conference.area), STAGE_ROLES, "recording a complaint's outcome")
        if outcome not in OUTCOMES:
            raise InvalidInput(f"outcome must be one of: {', '.join(OUTCOMES)}")
        complaints = self.store.complaints_for(conference.reference)
        open_ = [c for c in complaints if not c.stage.startswith("closed")]
        if not open_:
            if complaints:
                raise AlreadyDone(f"the complaint about {conference.reference} is already closed")
            raise InvalidInput(f"there is no complaint about {conference.reference}")
        events = self._events(conference.reference)
        if version != self.version_of(events):
            raise StaleAction("this card is out of date: the case changed since it was drawn; the current one is shown")
        now = self.now()
        for c in open_:
            assert c.id is not None
            self.store.set_complaint_stage(c.id, f"closed:{outcome}")
        self._record(conference.reference, "closed", now, actor)
        self.store.append_audit(actor, "complaint.closed", conference.reference, {"outcome": outcome})
        self.replan_reminders(conference.reference)
        return Changed(conference.reference, f"Outcome recorded: {OUTCOMES[outcome]}")

    # ------------------------------------------------------------------ meetings

    def link_chat(self, actor: str, reference: str, chat_id: str) -> Changed:
        """``conference link`` in a meeting chat: dissent typed there needs no reference, and the
        meeting's end sets the conference end, which starts the 72-hour clock (001 5.7.4)."""
        conference = self.conference(reference)
        require_chair(actor, conference, self.roles(actor, conference.area))
        if conference.meeting_chat_id == chat_id:
            raise AlreadyDone(f"this chat is already linked to {conference.reference}")
        other = self.store.conference_for_chat(chat_id)
        if other is not None and other.reference != conference.reference:
            raise InvalidInput(f"this chat is already linked to {other.reference}")
        self.store.update_conference(replace(conference, meeting_chat_id=chat_id))
        self.store.append_audit(actor, "conference.linked", conference.reference, {})
        self.replan_reminders(conference.reference)
        return Changed(conference.reference, f"This chat is now linked to conference {conference.reference}")

    def meeting_event(self, chat_id: str, started: bool, at: datetime) -> Changed | None:
        """Teams meeting start/end in a linked chat sets the conference's held/ended time once."""
        conference = self.store.conference_for_chat(chat_id)
        if conference is None:
            return None
        if started:
            if conference.held_at is not None:
                return None
            self.store.update_conference(replace(conference, held_at=at))
            self._record(conference.reference, "conference_held", at, "teams")
            self.store.append_audit("teams", "conference.started", conference.reference, {"at": to_local_iso(at)})
            self.replan_reminders(conference.reference)
            return Changed(conference.reference, "Conference started")
        if conference.ended_at is not None:
            return None
        held = conference.held_at or at
        self.store.update_conference(replace(conference, held_at=held, ended_at=at))
        if conference.held_at is None:
            self._record(conference.reference, "conference_held", held, "teams")
        self._record(conference.reference, "conference_ended", at, "teams")
        self.store.append_audit("teams", "conference.ended", conference.reference, {"at": to_local_iso(at)})
        notices = tuple(Notice("window_open", a.person_id, conference.reference) for a in conference.attendees)
        # The attendees are told now, by these notices: their "window opened" reminders are not sent again.
        window = self._window_rule(self.area_of(conference)) if conference.area in self.areas else None
        told = frozenset((window, "opened", n.person_id) for n in notices) if window else frozenset()
        self.replan_reminders(conference.reference, told)
        return Changed(conference.reference, "Conference ended: the dissent window is open", notices)

    # ------------------------------------------------------------------ reminders (ARCHITECTURE: Flows 4)

    def replan_open_cases(self) -> int:
        """Replan every case once (the scheduler does this each working morning), so that a duty left
        unmet keeps its overdue reminders coming even when nothing else happens on the case."""
        count = 0
        for conference in self.store.list_conferences():
            if conference.area in self.areas:
                self.replan_reminders(conference.reference)
                count += 1
        return count

    def replan_reminders(self, reference: str, notified: frozenset[tuple[str, str, str]] = frozenset()) -> PlanChange:
        """Recompute a case's reminder plan and store it; every change to a case calls this.

        The plan is :func:`casework.reminders.plan_case` over the case's timelines (as the status card
        shows them); recipients are resolved from roles here. A met deadline's pending reminders are
        cancelled and its sent cards marked for a "met" update; a moved date moves its reminders;
        rows already sent are never sent again (the store keeps them by idempotency key).
        """
        case = self.store.load_case(normalise_reference(reference))
        if case is None or case.conference.area not in self.areas:
            return PlanChange()
        conference = case.conference
        area = self.areas[conference.area]
        timelines = self._view(case).timelines
        if not any(not c.stage.startswith("closed") for c in case.complaints):
            # A closed complaint's remaining steps are not chased (000 §2, 001 5.7.10: its outcome ends it).
            timelines = tuple(t for t in timelines if t.process != "complaint")
        people: dict[str, Person] = {}
        by_role: dict[str, tuple[str, ...]] = {}
        for role in sorted(roles_needed(timelines, area.reminders)):
            if role == "chair" and conference.chair_id:
                continue
            holders = self.store.people_with_role(role, conference.area)
            people.update((p.id, p) for p in holders)
            by_role[role] = tuple(p.id for p in holders)
        for pid in [conference.chair_id, *(a.person_id for a in conference.attendees)]:
            if pid and pid not in people and (found := self.store.get_person(pid)) is not None:
                people[pid] = found
        recipients = Recipients(
            conference.chair_id,
            tuple(a.person_id for a in conference.attendees),
            by_role,
            {pid: p.line_manager_id for pid, p in people.items()},
        )
        # A linked Teams meeting that has started will report its end, which opens the dissent window.
        running = conference.meeting_chat_id is not None and conference.held_at and conference.ended_at is None
        plan = plan_case(
            conference.reference,
            area.id,
            area.calendar,
            timelines,
            area.reminders,
            recipients,
            self.now(),
            frozenset({"conference_ended"}) if running else frozenset(),
            notified,
        )
        return self.store.replace_reminders(conference.reference, plan.reminders, plan.met_rules, self.now())

    # ------------------------------------------------------------------ views

    def _case(self, reference: str) -> CaseFile:
        ref = normalise_reference(reference)
        case = self.store.load_case(ref)
        if case is None:
            raise UnknownConference(ref)
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
        return self._view(self._case(reference))

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
        )

    def deadlines_for(self, actor: str) -> list[Due]:
        """What this person is responsible for next, soonest first: open duties and windows."""
        out: list[Due] = []
        for conference in self.store.list_conferences():
            area = self.areas.get(conference.area)
            if area is None:
                continue
            roles = self.roles(actor, conference.area)
            if conference.chair_id == actor:
                roles = roles | {"chair"}
            if is_attendee(actor, conference):
                roles = roles | {"professional"}
            if not roles:
                continue
            view_events = self._events(conference.reference)
            for process in area.processes:
                for d in self._timeline(area, process, view_events).deadlines:
                    if d.status in ("pending", "missed") and d.applicable and d.rule.responsible in roles:
                        out.append(Due(conference.reference, d))
        far = datetime.max.replace(tzinfo=self.now().tzinfo)
        out.sort(key=lambda x: x.deadline.due or far)
        return out

    def audit_trail(self, actor: str, reference: str) -> Sequence[AuditEntry]:
        conference = self.conference(reference)
        require_any(self.roles(actor, conference.area), AUDIT_ROLES, "the audit trail")
        return self.store.audit_entries(conference.reference)

    @staticmethod
    def awaiting_decision(view: CaseView) -> list[Dissent]:
        """Dissents the reviewing manager has still to decide (001 5.7.7(3)), oldest first."""
        return [d for d in view.dissents if d.state in ("raised", "recorded")]

    def require_decider(self, actor: str, reference: str) -> CaseView:
        view = self.view(actor, reference)
        require_any(self.roles(actor, view.conference.area), DECIDE_ROLES, "deciding on a dissent")
        return view

    def require_complaint_role(self, actor: str, reference: str) -> Conference:
        conference = self.conference(reference)
        if conference.chair_id != actor:
            require_any(self.roles(actor, conference.area), COMPLAINT_ROLES, "recording a complaint")
        return conference

    def require_stage_role(self, actor: str, reference: str) -> CaseView:
        view = self.view(actor, reference)
        require_any(self.roles(actor, view.conference.area), STAGE_ROLES, "recording complaint stages")
        return view
