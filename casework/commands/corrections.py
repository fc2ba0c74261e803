"""Corrections, never edits (issue 9 item 3): a wrongly recorded step is withdrawn, with a reason.

The withdrawn event stays in the store (flagged, with who withdrew it and when) and its original
audit entry stays in the chain; the correction is a new audit entry. Timelines and reminders are then
computed without it. Who may correct: the conference's chair, a complaints manager (complaint steps),
or an admin. Dissent events are not corrected here: the dissent lifecycle has its own steps
(amend, withdraw, decline) and the professional's record of dissent is theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from casework.clock import spoken, to_local_iso, when_recorded
from casework.commands.base import CaseworkBase
from casework.commands.complaint import complaint_stage
from casework.commands.dissent import MIN_REASON
from casework.errors import InvalidInput, NotEntitled, StaleAction
from casework.free_text import text_hash
from casework.lifecycle.complaint import check_complaint_withdrawal
from casework.records import CaseEvent, Conference
from casework.results import Changed

# Events recorded by the dissent lifecycle; corrected through it, not by withdrawal.
DISSENT_EVENTS = frozenset({"dissent_raised", "dissent_recorded", "dissent_upheld", "dissent_not_upheld"})


@dataclass(frozen=True)
class Correctable:
    """What a person may withdraw on a case, drawn for one version of its events."""

    conference: Conference
    events: tuple[CaseEvent, ...]
    version: str


def _label(e: CaseEvent) -> str:
    return f"{e.name.replace('_', ' ').capitalize()}, {when_recorded(e.at)}"


class CorrectionCommands(CaseworkBase):
    """Withdrawing a wrongly recorded event."""

    def _complaint_events(self, conference: Conference) -> frozenset[str]:
        """The area's complaint steps (its lifecycle names them, casework.lifecycle.spec)."""
        return self.area_of(conference).complaint_lifecycle.events

    def _may_correct(self, actor: str, conference: Conference, event_name: str | None = None) -> None:
        roles = self.roles(actor, conference.area)
        if "admin" in roles or conference.chair_id == actor:
            return
        complaint_events = self._complaint_events(conference)
        if "complaints_manager" in roles and (event_name is None or event_name in complaint_events):
            return
        raise NotEntitled(
            f"corrections on {conference.reference} are for its chair, a complaints manager (complaint steps) "
            "or an admin"
        )

    def correctable(self, actor: str, reference: str) -> Correctable:
        """The events this person may withdraw on the case, newest first."""
        conference = self.conference(reference)
        self._may_correct(actor, conference)
        roles = self.roles(actor, conference.area)
        wide = "admin" in roles or conference.chair_id == actor
        complaint_events = self._complaint_events(conference)
        events = self._events(conference.reference)
        items = tuple(
            e
            for e in reversed(events)
            if e.id is not None and e.name not in DISSENT_EVENTS and (wide or e.name in complaint_events)
        )
        return Correctable(conference, items, self.version_of(events))

    def correct(self, actor: str, reference: str, event_id: str, reason: str, version: str) -> Changed:
        """Withdraw one recorded event, giving the reason; the timeline and reminders recompute.

        A complaint step that a later step depends on is refused, naming the later one to withdraw first
        (casework.lifecycle.complaint.check_complaint_withdrawal).
        """
        reason = " ".join(reason.split())
        if len(reason) < MIN_REASON:
            raise InvalidInput(f"give the reason for the correction (at least {MIN_REASON} characters)")
        if not event_id.isdigit():
            raise InvalidInput(f"choose the step to withdraw; type: correct {reference.upper()}")
        with self.store.unit_of_work() as uow:
            conference = self.conference(reference)
            area = self.area_of(conference)
            events = self._events(conference.reference)
            target = next((e for e in events if e.id == int(event_id)), None)
            if target is None:
                gone = next((e for e in self.store.all_events_for(conference.reference) if e.id == int(event_id)), None)
                if gone is not None:  # already withdrawn (the same correction again, or a race): the first answer
                    self._may_correct(actor, conference, gone.name)
                    return Changed(
                        conference.reference,
                        f"Withdrawn: {gone.name.replace('_', ' ')} of {spoken(gone.at)}; "
                        "the original stays in the audit trail",
                        repeated=True,
                    )
                raise StaleAction(f"that step is no longer recorded on {conference.reference}")
            self._may_correct(actor, conference, target.name)
            if target.name in DISSENT_EVENTS:
                raise InvalidInput(
                    "a dissent is changed through its own steps: the professional amends or withdraws it, "
                    "the chair declines a late one"
                )
            if version != self.version_of(events):
                raise StaleAction("this card is out of date: the case changed since it was drawn")
            complaint_events = area.complaint_lifecycle.events
            if target.name in complaint_events:
                check_complaint_withdrawal(area, [e.name for e in events if e.name in complaint_events], target.name)
            assert target.id is not None
            if not self.store.withdraw_event(target.id, actor, self.now()):
                raise StaleAction(f"that step on {conference.reference} was withdrawn a moment ago")
            self.store.add_case_text(conference.reference, "correction-reason", target.id, reason)
            remaining = {e.name for e in events if e.id != target.id}
            if target.name in complaint_events:
                self._reopen(conference.reference, target.name, remaining)
            # The audit entry comes after every change to the case's rows, as in every command: the
            # chain's lock is taken last, so two actions on one case cannot wait for each other.
            self.store.append_audit(
                actor,
                "case.corrected",
                conference.reference,
                {
                    "withdrawn": target.name,
                    "event_id": target.id,
                    "at": to_local_iso(target.at),
                    "reason_sha256": text_hash(reason),
                },
            )
            self.replan_reminders(conference.reference)
            uow.commit()
        return Changed(
            conference.reference,
            f"Withdrawn: {target.name.replace('_', ' ')} of {spoken(target.at)}; the original stays in the audit trail",
        )

    def _reopen(self, reference: str, withdrawn: str, remaining: set[str]) -> None:
        """Keep the complaints' stored stage true to the events left (a withdrawn outcome reopens them)."""
        stage = complaint_stage(remaining)
        for c in self.store.complaints_for(reference):
            if c.id is None:
                continue
            closed = c.stage.startswith("closed")
            if (withdrawn == "closed" and closed) or (not closed and c.stage != stage):
                self.store.set_complaint_stage(c.id, stage)


def describe(items: Sequence[CaseEvent]) -> list[tuple[str, str]]:
    """(id, label) pairs for a correction form."""
    return [(str(e.id), _label(e)) for e in items]
