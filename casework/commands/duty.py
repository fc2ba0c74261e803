"""Marking a duty done from its reminder card or from ``deadlines`` (issue 9 item 7).

Only a duty whose purpose is ``done`` (casework.duties) is marked here: its completing event is
recorded now, with an audit entry, in one unit of work. Decisions, the chair's recording and complaint
steps have their own cards, which check who may act and in what order.
"""

from __future__ import annotations

from casework.commands.base import CaseworkBase
from casework.duties import completing_event, purpose
from casework.errors import AlreadyDone, InvalidInput, NotEntitled
from casework.results import Changed

_ELSEWHERE = {
    "decide": "a dissent is decided on its decision card: type decide {ref}",
    "record": "the chair records a dissent on its card: type status {ref}",
    "step": "complaint steps are recorded with their date: type stage2 {ref} or panel {ref}",
    "dissent": "dissent is recorded by the professional: type dissent {ref} <reason>",
    "none": "this deadline has no step that marks it done",
}


class DutyCommands(CaseworkBase):
    """``duty.done``: record the event that completes a duty."""

    def complete_duty(self, actor: str, reference: str, rule_id: str) -> Changed:
        with self.store.unit_of_work() as uow:
            conference = self.conference(reference)
            area = self.area_of(conference)
            ref = conference.reference
            rule = area.rule(rule_id)
            if rule is None or rule.kind != "duty":
                raise InvalidInput(f"there is no duty {rule_id!r} on {ref}; type: deadlines")
            why = purpose(area, rule)
            event = completing_event(area, rule)
            if event is None:
                raise InvalidInput(_ELSEWHERE[why].format(ref=ref))
            roles = self.roles(actor, conference.area)
            if conference.chair_id == actor:
                roles = roles | {"chair"}
            if rule.responsible not in roles and "admin" not in roles:
                raise NotEntitled(f"{rule.title} is for the {rule.responsible.replace('_', ' ')} of {ref}")
            case = self._case(ref)
            found = [d for t in self._view(case).timelines for d in t.deadlines if d.rule.id == rule.id]
            # A repeating duty (one per review, London 8.16.14) is named ``rule#n``; its bare id means
            # the earliest occurrence still open.
            exact = [d for d in found if d.id == rule_id]
            open_ = [d for d in found if d.status not in ("met", "late")]
            deadline = exact[0] if exact else (open_[0] if open_ else (found[0] if found else None))
            if deadline is None or not deadline.applicable:
                raise InvalidInput(f"{rule.title} does not apply to {ref} now")
            if deadline.status in ("met", "late"):
                raise AlreadyDone(f"{deadline.title} is already recorded as done for {ref}")
            if deadline.status == "waiting":
                raise InvalidInput(f"{deadline.title} has not started yet on {ref}")
            now = self.now()
            self._record(ref, event, now, actor)
            self.store.append_audit(actor, "duty.done", ref, {"rule": deadline.id, "event": event})
            self.replan_reminders(ref)
            uow.commit()
        return Changed(ref, f"Done: {deadline.title}")
