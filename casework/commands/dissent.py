"""Dissent by professionals: raise, amend, withdraw, record, decline, decide (001 5.7.4-5.7.7; 004 8.13)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from casework.clock import spoken
from casework.commands.base import CaseworkBase
from casework.errors import (
    AlreadyDone,
    DuplicateRecord,
    InvalidInput,
    PossibleName,
    StaleAction,
)
from casework.free_text import text_hash
from casework.lifecycle.dissent import TRANSITIONS, dissent_transition, is_decided, state_words
from casework.names import possible_name
from casework.permissions import (
    DECIDE_ROLES,
    require_any,
    require_attendee,
    require_chair,
)
from casework.records import (
    CaseEvent,
    CaseFile,
    Conference,
    Dissent,
    Notice,
)
from casework.results import Changed, DissentRaised

MIN_REASON = 10
MAX_TEXT = 2000


class DissentCommands(CaseworkBase):
    """One handler per dissent command."""

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

    def _conference_for(self, reference: str | None, chat_id: str | None) -> Conference:
        if reference:
            return self.conference(reference)
        if chat_id and (linked := self.store.conference_for_chat(chat_id)) is not None:
            return linked
        raise InvalidInput("which conference? Type: dissent CPC-123 <your reason>")

    @staticmethod
    def _clean_reason(reason: str, reference: str) -> str:
        reason = " ".join(reason.split())
        if len(reason) < MIN_REASON:
            raise InvalidInput(f"give your reason, at least {MIN_REASON} characters: dissent {reference} <your reason>")
        if len(reason) > MAX_TEXT:
            raise InvalidInput(f"the reason is too long ({len(reason)} characters; at most {MAX_TEXT})")
        return reason

    def _own_dissent(self, person_id: str, reference: str) -> Dissent | None:
        """This person's latest dissent about this conference that still counts (not withdrawn)."""
        return _latest_of(self.store.dissents_for(reference), person_id)

    def raise_dissent(
        self,
        person_id: str,
        reference: str | None,
        reason: str,
        chat_id: str | None = None,
        confirm_name: bool = False,
    ) -> DissentRaised:
        """A professional dissents. Only attendees may; a late dissent is flagged, never refused (001 5.7.4);
        the chair may then decline it with reasons.

        Idempotent: the same dissent sent again (a retry, a double click, two instances racing) gets the
        first one's answer. While a dissent is open the professional amends or withdraws it; once it is
        decided, a second dissent about the same conference is refused, saying what was decided and when.
        A reason that looks as if it names someone (casework.names) is recorded only with ``confirm_name``:
        :class:`~casework.errors.PossibleName` asks first, and nothing is written (issue 14 item 7).
        """
        try:
            with self.store.unit_of_work() as uow:
                raised = self._raise(person_id, reference, reason, chat_id, confirm_name)
                uow.commit()
            return raised
        except DuplicateRecord:
            # Another request recorded this person's dissent a moment ago: answer as it was answered.
            conference = self._conference_for(reference, chat_id)
            first = self._own_dissent(person_id, conference.reference)
            if first is None:
                raise
            return DissentRaised(first, conference, self.window_due(conference), (), repeated=True)

    def _raise(
        self, person_id: str, reference: str | None, reason: str, chat_id: str | None, confirm_name: bool = False
    ) -> DissentRaised:
        """Read the case once, write the dissent, its event, audit entry, reminders and the chair's prompt,
        and draw the case once for the plan and the reply: one transaction, no second read of anything."""
        person = self.person(person_id)
        case = self._case_for(reference, chat_id)
        conference = case.conference
        reason = self._clean_reason(reason, conference.reference)
        require_attendee(person_id, conference)
        if not confirm_name and possible_name(reason, case.names.values()):
            raise PossibleName(conference.reference)
        if conference.held_at is None:
            raise InvalidInput(f"conference {conference.reference} has not been held yet; dissent follows its decision")
        ref = conference.reference
        existing = _latest_of(case.dissents, person_id)
        due = self.window_due(conference, case.events)
        if existing is not None:
            if existing.state == "raised" and existing.reason == reason:
                return DissentRaised(existing, conference, due, (), repeated=True)
            raise AlreadyDone(self._already(existing))
        now = self.now()
        late = due is not None and now > due
        agency = next((a.agency for a in conference.attendees if a.person_id == person_id), person.agency)
        dissent = self.store.add_dissent(Dissent(None, ref, person_id, agency, reason, now, late))
        event = self.store.record_event(CaseEvent(ref, "dissent_raised", now, person_id))
        after = replace(
            case,
            events=tuple(sorted((*case.events, event), key=lambda e: (e.at, e.id or 0))),
            dissents=(*case.dissents, dissent),
        )
        view = self._view(after)
        self.replan_case(after, view)
        assert dissent.id is not None
        notices = self._chair_notices(conference, dissent.id, "chair_prompt")
        self._notify(notices)
        # Last: the audit chain is appended under a lock every writer shares (PostgreSQL's advisory
        # lock), held to the commit, so everything else is done before it is taken.
        self.store.append_audit(
            person_id,
            "dissent.raised",
            ref,
            {"dissent": dissent.id, "agency": agency, "late": late, "reason_sha256": text_hash(dissent.reason)},
        )
        return DissentRaised(dissent, conference, due, tuple(notices), view=view)

    def _case_for(self, reference: str | None, chat_id: str | None) -> CaseFile:
        """The case a dissent is about: by its typed reference, else the conference linked to this chat."""
        if reference:
            return self._case(reference)
        return self._recorded_case(self._conference_for(None, chat_id).reference)

    @staticmethod
    def _already(d: Dissent) -> str:
        """What a second dissent is told: where the first one is, in words (001 5.7.7)."""
        ref = d.reference
        if d.state == "raised":
            return (
                f"you already recorded dissent from {ref} on {spoken(d.raised_at)}; it is waiting for the chair to "
                f"record it. To change your reason type: dissent amend {ref} <new reason>; "
                f"to withdraw it: dissent withdraw {ref}"
            )
        if d.state == "recorded":
            return (
                f"you already recorded dissent from {ref} on {spoken(d.raised_at)}; the chair recorded it and it is "
                "with the reviewing manager for a decision"
            )
        when = f" on {spoken(d.decided_at)}" if d.decided_at else ""
        outcome = state_words(d.state)
        return f"your dissent from {ref} was {outcome}{when}; a second dissent about the same conference is not taken"

    def amend_dissent(
        self,
        person_id: str,
        reference: str | None,
        reason: str,
        chat_id: str | None = None,
        confirm_name: bool = False,
    ) -> Changed:
        """The professional changes their reason, until the chair records the dissent (issue 9 item 3).
        A new reason that looks as if it names someone is asked about first, as a first one is."""
        with self.store.unit_of_work() as uow:
            conference = self._conference_for(reference, chat_id)
            reason = self._clean_reason(reason, conference.reference)
            # Only when the text alone looks like a name are the case's professionals read (their
            # names are not flagged): one more read, and only then.
            if (
                not confirm_name
                and possible_name(reason)
                and possible_name(reason, self._recorded_case(conference.reference).names.values())
            ):
                raise PossibleName(conference.reference)
            d = self._own_dissent(person_id, conference.reference)
            if d is None or d.id is None:
                raise InvalidInput(f"you have no dissent from {conference.reference} to amend")
            dissent_transition(d.state, "amend", d.late, self.areas.get(conference.area))
            if d.reason == reason:
                return Changed(conference.reference, "Your reason is unchanged", (), d)
            if not self.store.amend_dissent(d.id, reason):
                raise StaleAction("the chair recorded your dissent a moment ago, so its reason can no longer change")
            self.store.append_audit(
                person_id, "dissent.amended", d.reference, {"dissent": d.id, "reason_sha256": text_hash(reason)}
            )
            notices = self._chair_notices(
                conference, d.id, "chair_prompt", occasion=f"amended-{self.now().isoformat()}"
            )
            self._notify(notices)
            uow.commit()
        return Changed(
            d.reference,
            "Your reason was amended; the chair sees the new one",
            tuple(notices),
            replace(d, reason=reason),
        )

    def withdraw_dissent(self, person_id: str, reference: str | None, chat_id: str | None = None) -> Changed:
        """The professional withdraws their dissent before it is decided; the record keeps that it was made."""
        with self.store.unit_of_work() as uow:
            conference = self._conference_for(reference, chat_id)
            d = self._own_dissent(person_id, conference.reference)
            if d is None or d.id is None:
                mine = [x for x in self.store.dissents_for(conference.reference) if x.person_id == person_id]
                if mine and mine[-1].state == "withdrawn":  # the same withdrawal again: the first answer
                    return Changed(conference.reference, "Your dissent was withdrawn", (), mine[-1], repeated=True)
                raise InvalidInput(f"you have no dissent from {conference.reference} to withdraw")
            new = dissent_transition(d.state, "withdraw", d.late, self.areas.get(conference.area))
            if not self.store.transition_dissent(d.id, (d.state,), new, self.now()):
                raise StaleAction("your dissent changed a moment ago; nothing was withdrawn")
            self._close_raised_event(d, person_id)
            self.store.append_audit(person_id, "dissent.withdrawn", d.reference, {"dissent": d.id})
            self.replan_reminders(d.reference)
            notices = self._chair_notices(conference, d.id, "dissent_withdrawn")
            self._notify(notices)
            uow.commit()
        return Changed(d.reference, "Your dissent was withdrawn", tuple(notices), replace(d, state=new))

    def _close_raised_event(self, d: Dissent, actor: str) -> None:
        """A withdrawn or declined dissent no longer starts the chair's and the reviewing manager's
        duties (001 5.7.7(2)-(3)): its ``dissent_raised`` event stops counting. The row stays, and the
        dissent's own audit entries say what happened."""
        for e in self.store.events_for(d.reference):
            if e.name == "dissent_raised" and e.at == d.raised_at and e.recorded_by == d.person_id and e.id:
                self.store.withdraw_event(e.id, actor, self.now())
                return

    def _chair_notices(self, conference: Conference, dissent_id: int, kind: str, occasion: str = "") -> list[Notice]:
        if conference.chair_id:
            return [Notice(kind, conference.chair_id, conference.reference, dissent_id, occasion)]
        return [
            Notice(kind, p.id, conference.reference, dissent_id, occasion)
            for p in self.store.people_with_role("head_of_safeguarding", conference.area)
        ]

    def _dissent(self, dissent_id: int) -> tuple[Dissent, Conference]:
        d = self.store.get_dissent(dissent_id)
        if d is None:
            raise InvalidInput(f"there is no dissent {dissent_id} on record")
        return d, self.recorded_conference(d.reference)

    @staticmethod
    def _repeat(d: Dissent, action: str, drawn_state: str) -> bool:
        """The card's action was already taken (a double click, a retry, two instances racing): the
        dissent is in the state this very action leads to from the state the card was drawn for."""
        target = TRANSITIONS.get((drawn_state, action))
        return target is not None and d.state == target[0] and d.state != drawn_state

    def _lost_race(self, dissent_id: int, action: str, drawn_state: str, summary: str) -> Changed:
        """Another request moved the dissent between our read and our compare-and-set. If it took this
        very action, answer as it did; otherwise say what the dissent is now."""
        d = self.store.get_dissent(dissent_id)
        if d is not None and self._repeat(d, action, drawn_state):
            return Changed(d.reference, summary, (), d, repeated=True)
        raise StaleAction("the dissent changed a moment ago; nothing was changed")

    def _move(self, d: Dissent, action: str, drawn_state: str, conference: Conference) -> str:
        """The dissent's next state for ``action``, from a card drawn for ``drawn_state``."""
        if d.state != drawn_state:
            now_words = state_words(d.state)
            if d.state == "recorded" and drawn_state == "raised" and action == "record":
                raise AlreadyDone(f"this dissent from {d.reference} is already recorded")
            if is_decided(d.state):
                raise AlreadyDone(f"the dissent from {d.reference} was already dealt with: it was {now_words}")
            raise StaleAction(
                f"this card was drawn when the dissent was {drawn_state.replace('_', ' ')}; it is now {now_words}"
            )
        return dissent_transition(d.state, action, d.late, self.areas.get(conference.area))

    def record_dissent(self, actor: str, dissent_id: int, drawn_state: str) -> Changed:
        """The chair records the dissent in the Chair's Summary and Plan and notifies their line manager
        (001 5.7.7(2)); recording a late dissent is the chair's recorded discretion to accept it."""
        with self.store.unit_of_work() as uow:
            d, conference = self._dissent(dissent_id)
            require_chair(actor, conference, self.roles(actor, conference.area))
            if self._repeat(d, "record", drawn_state):
                return Changed(d.reference, "Dissent recorded in the Chair's Summary and Plan", (), d, repeated=True)
            new = self._move(d, "record", drawn_state, conference)
            now = self.now()
            if not self.store.transition_dissent(dissent_id, (d.state,), new):
                return self._lost_race(
                    dissent_id, "record", drawn_state, "Dissent recorded in the Chair's Summary and Plan"
                )
            self._record(d.reference, "dissent_recorded", now, actor)
            self.store.append_audit(
                actor, "dissent.recorded", d.reference, {"dissent": dissent_id, "late_accepted_at_discretion": d.late}
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
            self._notify(notices)
            uow.commit()
        return Changed(
            d.reference, "Dissent recorded in the Chair's Summary and Plan", tuple(notices), replace(d, state=new)
        )

    def decline_dissent(self, actor: str, dissent_id: int, reasons: str, drawn_state: str) -> Changed:
        """The chair declines a late dissent, with reasons: accepting one is their discretion (001 5.7.4),
        so declining it must be possible too. An on-time dissent cannot be declined."""
        reasons = " ".join(reasons.split())
        if len(reasons) < MIN_REASON:
            raise InvalidInput(f"give the reasons for declining (at least {MIN_REASON} characters)")
        with self.store.unit_of_work() as uow:
            d, conference = self._dissent(dissent_id)
            require_chair(actor, conference, self.roles(actor, conference.area))
            if self._repeat(d, "decline", drawn_state):
                return Changed(d.reference, "Late dissent declined", (), d, repeated=True)
            new = self._move(d, "decline", drawn_state, conference)
            now = self.now()
            if not self.store.transition_dissent(dissent_id, (d.state,), new, now):
                return self._lost_race(dissent_id, "decline", drawn_state, "Late dissent declined")
            self._close_raised_event(d, actor)
            self.store.add_case_text(d.reference, "decision-reasons", dissent_id, reasons)
            self.store.append_audit(
                actor, "dissent.declined", d.reference, {"dissent": dissent_id, "reasons_sha256": text_hash(reasons)}
            )
            self.replan_reminders(d.reference)
            notices = [Notice("decision_made", d.person_id, d.reference, dissent_id)]
            self._notify(notices)
            uow.commit()
        return Changed(d.reference, "Late dissent declined", tuple(notices), replace(d, state=new, decided_at=now))

    def decide_dissent(self, actor: str, dissent_id: int, uphold: bool, reasons: str, drawn_state: str) -> Changed:
        """The reviewing manager upholds (and the conference reconvenes within 15 working days) or
        does not, with reasons, within 10 working days of the conference (001 5.7.7(3)-(4))."""
        reasons = " ".join(reasons.split())
        if len(reasons) < MIN_REASON:
            raise InvalidInput(f"give the reasons for the decision (at least {MIN_REASON} characters)")
        with self.store.unit_of_work() as uow:
            d, conference = self._dissent(dissent_id)
            require_any(self.roles(actor, conference.area), DECIDE_ROLES, "deciding on a dissent")
            action = "uphold" if uphold else "not_uphold"
            if self._repeat(d, action, drawn_state):
                summary = "Dissent upheld: reconvene the conference" if uphold else "Dissent not upheld"
                return Changed(d.reference, summary, (), d, repeated=True)
            new = self._move(d, action, drawn_state, conference)
            now = self.now()
            if not self.store.transition_dissent(dissent_id, (d.state,), new, now):
                summary = "Dissent upheld: reconvene the conference" if uphold else "Dissent not upheld"
                return self._lost_race(dissent_id, action, drawn_state, summary)
            self._record(d.reference, f"dissent_{new}", now, actor)
            self.store.add_case_text(d.reference, "decision-reasons", dissent_id, reasons)
            self.store.append_audit(
                actor, f"dissent.{new}", d.reference, {"dissent": dissent_id, "reasons_sha256": text_hash(reasons)}
            )
            self.replan_reminders(d.reference)
            notices = [Notice("decision_made", d.person_id, d.reference, dissent_id)]
            if conference.chair_id:
                notices.append(Notice("decision_made", conference.chair_id, d.reference, dissent_id))
            self._notify(notices)
            uow.commit()
        summary = "Dissent upheld: reconvene the conference" if uphold else "Dissent not upheld"
        return Changed(d.reference, summary, tuple(notices), replace(d, state=new, decided_at=now))


def _latest_of(dissents: Sequence[Dissent], person_id: str) -> Dissent | None:
    """This person's latest dissent that still counts (not withdrawn), of a case's dissents in order."""
    mine = [d for d in dissents if d.person_id == person_id and d.state != "withdrawn"]
    return mine[-1] if mine else None
