"""Reads for the edges: what a person must do next, the audit trail, who may decide."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from casework.audit_words import AuditLine, audit_lines, named_in
from casework.commands.base import CaseworkBase
from casework.duties import purpose, right_holder
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
    CaseFile,
    Conference,
    Dissent,
)
from casework.results import CaseView, Due
from casework.timeline import Deadline


class CaseQueries(CaseworkBase):
    """Queries: no writes."""

    def deadlines_for(self, actor: str) -> list[Due]:
        """What this person must do, soonest first, then the rights open for others (issue 9 item 7).

        Duties are those whose responsible role the person holds on the case (its chair, an attendee,
        or a role in the area). Windows are rights, never the person's overdue work: one that is still
        open is listed as open for its holder; one that closed unused is not listed at all. A flag (a
        conference longer than 004 8.9.10 allows) is nobody's to do and is not listed. A closed
        complaint's steps are not chased (000 §2, 001 5.7.10).

        Only open cases can list anything (casework.openness), so only these are read (issue 12): the
        open cases the person chairs or attended, and the open cases of the areas where they hold a
        role (their grants read once, for every area), loaded together in a few statements.
        """
        roles_in = self.store.roles_in_areas(actor, self.areas)
        with_roles = sorted(a for a, held in roles_in.items() if held)
        references = sorted(set(self.store.open_cases_of(actor)) | set(self.store.open_cases_in(with_roles)))
        cases = [c for c in self.store.load_cases(references) if c.conference.area in self.areas]
        return self.soonest([self.dues_in(actor, case, roles_in[case.conference.area]) for case in cases])

    def soonest(self, per_case: Sequence[tuple[list[Due], list[Due]]]) -> list[Due]:
        """Duties soonest first, then rights soonest first (undated last), from each case's in turn."""
        far = datetime.max.replace(tzinfo=self.now().tzinfo)
        duties = sorted((d for case_duties, _ in per_case for d in case_duties), key=lambda x: x.deadline.due or far)
        rights = sorted((r for _, case_rights in per_case for r in case_rights), key=lambda x: x.deadline.due or far)
        return duties + rights

    def dues_in(self, actor: str, case: CaseFile, area_roles: set[str]) -> tuple[list[Due], list[Due]]:
        """The person's duties and the rights they see in one case, given their roles in its area."""
        conference = case.conference
        area = self.area_of(conference)
        roles = set(area_roles)
        attendee = is_attendee(actor, conference)
        if conference.chair_id == actor:
            roles.add("chair")
        if attendee:
            roles.add("professional")
        duties: list[Due] = []
        rights: list[Due] = []
        if not roles:
            return duties, rights
        for tl in self._work_timelines(case, self._view(case).timelines):
            for d in tl.deadlines:
                if not d.applicable:
                    continue
                rule = d.rule
                if rule.kind == "flag":  # how long a conference lasted: shown on the timeline, nobody's work
                    continue
                if rule.kind == "duty":
                    if d.status in ("pending", "missed") and rule.responsible in roles:
                        duties.append(Due(conference.reference, d, "duty", "", purpose(area, rule)))
                    continue
                if d.status != "pending" or rule.responsible not in roles or rule.responsible == "professional":
                    continue
                holder = right_holder(rule, attendee)
                if holder is not None:
                    rights.append(Due(conference.reference, d, "right", holder.label, purpose(area, rule)))
        if attendee and actor not in self._rights_used(case):
            # The person's own right to dissent, as it stands for them (another's dissent does not use it).
            for tl in self.rights_timelines(case):
                rights.extend(
                    Due(conference.reference, d, "right", "you", purpose(area, d.rule))
                    for d in tl.deadlines
                    if d.applicable and d.status == "pending"
                )
        return duties, rights

    def audit_trail(self, actor: str, reference: str) -> list[AuditLine]:
        """The case's audit trail in words, numbered per case, for the roles that may read it; who
        acted is named from the register (one read for everyone the trail names)."""
        conference = self.conference(reference)
        require_any(self.roles(actor, conference.area), AUDIT_ROLES, "the audit trail")
        entries = self.store.audit_entries(conference.reference)
        return audit_lines(entries, self.store.people_by_ids(set().union(*map(named_in, entries))))

    def teams_object_id(self, person_id: str) -> str:
        """The Entra object id a mention of this person names: their linked account's, else their
        registered id (registered by object id, ``cpc people add --id``)."""
        linked = self.store.identity_of(person_id)
        return linked[1] if linked else person_id

    def decision_reasons(self, reference: str, dissent_id: int) -> str | None:
        """The reasons given for deciding (or declining) this dissent, as the record holds them now
        (redacted, if they were): the professional is told them with the decision (001 5.7.7(3))."""
        found = [
            t.text
            for t in self.store.free_texts(reference)
            if t.field == "decision-reasons" and t.record_id == dissent_id
        ]
        return found[-1] if found else None

    @staticmethod
    def awaiting_chair(actor: str, view: CaseView) -> list[Dissent]:
        """Dissents this person, as the conference's chair, has still to record (001 5.7.7(2))."""
        if view.conference.chair_id != actor:
            return []
        return [d for d in view.dissents if d.state == "raised"]

    @staticmethod
    def after_uphold(view: CaseView) -> list[Deadline]:
        """The open duties an upheld dissent starts (the reconvened conference, 001 5.7.7(4)), soonest first."""
        started = [
            (d.due, d)
            for t in view.timelines
            for d in t.deadlines
            if d.status == "pending" and d.due is not None and "dissent_upheld" in d.rule.start_events()
        ]
        return [d for _due, d in sorted(started, key=lambda pair: pair[0])]

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
