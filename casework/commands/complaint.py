"""Complaints from children and families: received, stage steps, outcome (000 §3; 001 5.7.8-5.7.39)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from casework.clock import local_date, spoken_date, start_of_day, to_local_iso
from casework.commands.base import CaseworkBase
from casework.commands.dissent import MAX_TEXT
from casework.errors import (
    AlreadyDone,
    DuplicateRecord,
    EventOrderError,
    InvalidInput,
    PossibleName,
    SecondComplaint,
    StaleAction,
)
from casework.event_titles import event_title
from casework.events import Event, index_events
from casework.free_text import text_hash
from casework.lifecycle.complaint import check_complaint_step
from casework.names import possible_name
from casework.permissions import (
    COMPLAINT_ROLES,
    STAGE_ROLES,
    require_any,
)
from casework.records import (
    COMPLAINANT_ROLES,
    Complaint,
    Notice,
)
from casework.results import Changed
from casework.rules import Rule

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
#: Outcomes that need an explanation given with them, and how long it must be at least.
EXPLAINED = frozenset({"confirmed"})
MIN_EXPLANATION = 10

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
    # The statutory procedure's Stage 3 ends with the panel's report and the authority's response
    # (SI 2006/1738 regs 20-21, england-statutory pack).
    "panel": (
        "stage3_requested",
        "panel_held",
        "panel_letter_sent",
        "panel_report_received",
        "authority_response_sent",
    ),
}

STAGE_EVENTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("panel", frozenset(STEP_EVENTS["panel"])),
    ("stage2", frozenset({"stage2_requested", "stage2_meeting_held", "stage2_letter_sent", "stage2_letter_received"})),
)
"""The furthest stage a case's events show (000 §3 Stage 1/Stage 2; 001 5.7.12-5.7.30 Stages 1-3)."""


def step_command(rule: Rule) -> str:
    """Which form records the step that completes ``rule``: ``panel`` for the panel's steps, else ``stage2``."""
    return "panel" if set(rule.completed_by) & set(STEP_EVENTS["panel"]) else "stage2"


def complaint_stage(event_names: set[str] | frozenset[str]) -> str:
    """``stage1``, ``stage2`` or ``panel``: the stage an open complaint has reached, from its events."""
    for stage, names in STAGE_EVENTS:
        if event_names & names:
            return stage
    return "stage1"


class ComplaintCommands(CaseworkBase):
    """One handler per complaint command."""

    def record_complaint(
        self,
        actor: str,
        reference: str,
        received: datetime | date,
        complainant_role: str,
        grounds: str,
        summary: str,
        confirm_repeat: bool = False,
        confirm_name: bool = False,
    ) -> Changed:
        """A complaint from a child or family member is received: Stage 1 starts (000 §3; 001 5.7.12).

        ``received`` is what the user gave: a date, or a date and time. A date is kept as a date (its
        day's start, flagged as having no time) and compared with the conference by date, so a
        complaint received on the conference's own day is accepted. A second complaint from the same
        complainant received the same day is refused unless ``confirm_repeat``; a racing duplicate
        gets the first one's answer.
        """
        try:
            with self.store.unit_of_work() as uow:
                changed = self._record_complaint(
                    actor, reference, received, complainant_role, grounds, summary, confirm_repeat, confirm_name
                )
                uow.commit()
            return changed
        except DuplicateRecord:
            # Another request recorded this complaint a moment ago: answer as it was answered.
            ref = self.conference(reference).reference
            day = local_date(received if isinstance(received, datetime) else start_of_day(received))
            if not any(
                local_date(c.received_at) == day and c.complainant_role == complainant_role
                for c in self.store.complaints_for(ref)
            ):
                raise
            return Changed(ref, "Complaint recorded: Stage 1 has started", (), repeated=True)

    def _record_complaint(
        self,
        actor: str,
        reference: str,
        received: datetime | date,
        complainant_role: str,
        grounds: str,
        summary: str,
        confirm_repeat: bool,
        confirm_name: bool = False,
    ) -> Changed:
        conference = self.conference(reference)
        roles = self.roles(actor, conference.area)
        if conference.chair_id != actor:
            require_any(roles, COMPLAINT_ROLES, "recording a complaint")
        if complainant_role not in COMPLAINANT_ROLES:
            raise InvalidInput(f"complainant must be one of: {', '.join(COMPLAINANT_ROLES)} (never a name)")
        if grounds not in COMPLAINT_GROUNDS:
            raise InvalidInput(f"grounds must be one of: {', '.join(COMPLAINT_GROUNDS)}")
        time_given = isinstance(received, datetime)
        received_at = received if isinstance(received, datetime) else start_of_day(received)
        received_day = local_date(received_at)
        if (received_at if time_given else received_day) > (self.now() if time_given else local_date(self.now())):
            raise InvalidInput("the date received cannot be in the future")
        if conference.held_at and received_day < local_date(conference.held_at):
            raise InvalidInput(
                f"the complaint cannot be received before conference {conference.reference} was held "
                f"({spoken_date(local_date(conference.held_at))})"
            )
        summary = " ".join(summary.split())[:MAX_TEXT]
        # A summary names the complainant by role (issue 14 item 7): asked, never refused. The case's
        # professionals, whose names are not flagged, are read only when the text alone looks like one.
        if (
            not confirm_name
            and possible_name(summary)
            and possible_name(summary, self._recorded_case(conference.reference).names.values())
        ):
            raise PossibleName(conference.reference)
        existing = self.store.complaints_for(conference.reference)
        area = self.area_of(conference)
        if not any(not c.stage.startswith("closed") for c in existing):
            if existing:
                closed = existing[-1].stage.removeprefix("closed:").replace("_", " ")
                raise InvalidInput(
                    f"the complaint about {conference.reference} was closed ({closed}); if that outcome was "
                    f"recorded in error, withdraw it first: correct {conference.reference}"
                )
            # Refused where the area has no complaints process for families (City and Hackney, 003).
            check_complaint_step(area, [], "complaint_received")
        same = [
            c for c in existing if local_date(c.received_at) == received_day and c.complainant_role == complainant_role
        ]
        if same and not confirm_repeat:
            first = same[0]
            if first.grounds == grounds and first.summary == summary:
                # The same complaint sent again (a double click, a retry): the first one's answer.
                return Changed(conference.reference, "Complaint recorded: Stage 1 has started", (), repeated=True)
            raise SecondComplaint(
                f"a complaint about {conference.reference} from the {complainant_role}, received "
                f"{spoken_date(received_day)}, is already recorded; if this is a second complaint, tick "
                "'This is a second complaint' and record it again"
            )
        complaint = self.store.add_complaint(
            Complaint(
                None,
                conference.reference,
                conference.area,
                received_at,
                complainant_role,
                grounds,
                summary,
                time_given=time_given,
                repeat=len(same),
            )
        )
        self._record(conference.reference, "complaint_received", received_at, actor)
        self.store.append_audit(
            actor,
            "complaint.received",
            conference.reference,
            {
                "complaint": complaint.id,
                "complainant": complainant_role,
                "grounds": grounds,
                "received": to_local_iso(received_at) if time_given else received_day.isoformat(),
                **({"summary_sha256": text_hash(summary)} if summary else {}),
            },
        )
        self.replan_reminders(conference.reference)
        notices = [
            Notice("complaint_logged", p.id, conference.reference, occasion=f"complaint-{complaint.id}")
            for p in self.store.people_with_role("complaints_manager", conference.area)
            if p.id != actor
        ]
        self._notify(notices)
        return Changed(conference.reference, "Complaint recorded: Stage 1 has started", tuple(notices))

    def record_step(self, actor: str, reference: str, command: str, event: str, at: datetime, version: str) -> Changed:
        """A complaint stage event (stage2/panel commands), from a card drawn for ``version``.

        Only a step the area's complaint lifecycle allows now is taken; any other is refused naming
        the step due next and its paragraph (casework.lifecycle.complaint).
        """
        with self.store.unit_of_work() as uow:
            conference = self.conference(reference)
            area = self.area_of(conference)
            require_any(self.roles(actor, conference.area), STAGE_ROLES, f"recording {command} steps")
            allowed = [e for e in STEP_EVENTS.get(command, ()) if e in area.events]
            if event not in allowed:
                raise InvalidInput(f"{command} records one of: {', '.join(event_title(e) for e in allowed)}")
            if not self.store.complaints_for(conference.reference):
                raise InvalidInput(
                    f"there is no complaint about {conference.reference}; record one with: "
                    f"complaint {conference.reference}"
                )
            if at > self.now():
                raise InvalidInput("the date cannot be in the future")
            events = self._events(conference.reference)
            if any(e.name == event and e.at == at for e in events):
                # The same step sent again (a double click, a retry, a race): the first answer.
                return Changed(conference.reference, f"Recorded: {event_title(event)}", repeated=True)
            if version != self.version_of(events):
                raise StaleAction(
                    "this card is out of date: the case changed since it was drawn; the current one is shown"
                )
            check_complaint_step(area, [e.name for e in events], event)
            try:
                index_events([Event(e.name, e.at) for e in events] + [Event(event, at)], area.events, area.id)
            except EventOrderError as exc:
                raise InvalidInput(str(exc)) from None
            self._record(conference.reference, event, at, actor)
            self._restage(conference.reference, {e.name for e in events} | {event})
            self.store.append_audit(actor, f"complaint.{event}", conference.reference, {"at": to_local_iso(at)})
            self.replan_reminders(conference.reference)
            uow.commit()
        return Changed(conference.reference, f"Recorded: {event_title(event)}")

    def _restage(self, reference: str, event_names: set[str]) -> None:
        """Keep each open complaint's stored stage in step with the case's events."""
        stage = complaint_stage(event_names)
        for c in self.store.complaints_for(reference):
            if c.id is not None and not c.stage.startswith("closed") and c.stage != stage:
                self.store.set_complaint_stage(c.id, stage)

    def record_outcome(self, actor: str, reference: str, outcome: str, version: str, explanation: str = "") -> Changed:
        """The complaint's outcome (000 §2, 001 5.7.10, 004 8.17.4): it closes every open complaint.

        A confirmed decision is confirmed "with an explanation": the explanation given to the family is
        required and kept as the case's free text (``outcome-explanation``; its hash in the audit)."""
        explanation = " ".join(explanation.split())[:MAX_TEXT]
        with self.store.unit_of_work() as uow:
            conference = self.conference(reference)
            area = self.area_of(conference)
            require_any(self.roles(actor, conference.area), STAGE_ROLES, "recording a complaint's outcome")
            if outcome not in OUTCOMES:
                raise InvalidInput(f"outcome must be one of: {', '.join(OUTCOMES)}")
            complaints = self.store.complaints_for(conference.reference)
            open_ = [c for c in complaints if not c.stage.startswith("closed")]
            if not open_:
                if complaints and all(c.stage == f"closed:{outcome}" for c in complaints):
                    return Changed(conference.reference, f"Outcome recorded: {OUTCOMES[outcome]}", repeated=True)
                if complaints:
                    raise AlreadyDone(f"the complaint about {conference.reference} is already closed")
                raise InvalidInput(f"there is no complaint about {conference.reference}")
            events = self._events(conference.reference)
            if version != self.version_of(events):
                raise StaleAction(
                    "this card is out of date: the case changed since it was drawn; the current one is shown"
                )
            check_complaint_step(area, [e.name for e in events], "closed")
            if outcome in EXPLAINED and len(explanation) < MIN_EXPLANATION:
                raise InvalidInput(
                    f"give the explanation sent to the family with the confirmed decision (at least "
                    f"{MIN_EXPLANATION} characters)"
                )
            now = self.now()
            for c in open_:
                assert c.id is not None
                self.store.set_complaint_stage(c.id, f"closed:{outcome}")
            self._record(conference.reference, "closed", now, actor)
            detail: dict[str, Any] = {"outcome": outcome}
            if explanation:
                assert open_[0].id is not None
                self.store.add_case_text(conference.reference, "outcome-explanation", open_[0].id, explanation)
                detail["explanation_sha256"] = text_hash(explanation)
            self.store.append_audit(actor, "complaint.closed", conference.reference, detail)
            self.replan_reminders(conference.reference)
            uow.commit()
        return Changed(conference.reference, f"Outcome recorded: {OUTCOMES[outcome]}")
