"""Reads for the edges: what a person must do next, the audit trail, who may decide."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from casework.commands.base import CaseworkBase
from casework.lifecycle.complaint import complaint_steps
from casework.lifecycle.spec import Step
from casework.permissions import (
    AUDIT_ROLES,
    COMPLAINT_ROLES,
    DECIDE_ROLES,
    STAGE_ROLES,
    is_attendee,
    require_any,
)
from casework.records import (
    AuditEntry,
    Conference,
    Dissent,
)
from casework.results import CaseView, Due


class CaseQueries(CaseworkBase):
    """Queries: no writes."""

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

    def complaint_next(self, view: CaseView) -> tuple[Step, ...]:
        """The complaint steps its lifecycle allows now, for the step form (casework.lifecycle.complaint)."""
        return complaint_steps(view.area, [e.name for e in view.events])
