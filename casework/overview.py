"""``cases``: a chair's or a manager's open cases, grouped by what needs them now (issue 14 item 4).

Teams Approvals shows "what is waiting for me" first; so does this. Three groups:

1. **Needs you now**: cases where the person has an open duty (casework.queries.dues_in decides which
   duties are theirs, from the roles they hold on the case and in its area), soonest first;
2. **Waiting on others**: cases the person chairs or attended, open, with nothing of theirs to do;
   each says whose step is next. Cases seen only through an area role are not listed here (a Head of
   Safeguarding would otherwise see every open case in the area): those appear when they need them;
3. **Recently closed**: the person's cases closed with an event in the last :data:`RECENT_DAYS` days.

It reads what ``deadlines`` reads, plus one query for the recently closed cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from casework.duties import purpose
from casework.errors import NotEntitled, UnknownConference
from casework.permissions import is_attendee, may_view
from casework.queries import CaseQueries
from casework.records import CaseFile
from casework.results import CaseView, Due
from casework.timeline import Deadline

#: How far back "recently closed" looks.
RECENT_DAYS = 30


@dataclass(frozen=True)
class CaseLine:
    """One case in the overview: its next open step (whoever's it is) and the person's own duties."""

    reference: str
    area: str
    next: Deadline | None
    mine: tuple[Due, ...] = ()


@dataclass(frozen=True)
class Overview:
    needs_me: tuple[CaseLine, ...]
    waiting: tuple[CaseLine, ...]
    closed: tuple[CaseLine, ...]


class OverviewQueries(CaseQueries):
    """The ``cases`` overview, built on the queries behind ``deadlines``."""

    def cases_for(self, actor: str) -> Overview:
        roles_in = self.store.roles_in_areas(actor, self.areas)
        with_roles = sorted(a for a, held in roles_in.items() if held)
        own = set(self.store.open_cases_of(actor))
        references = sorted(own | set(self.store.open_cases_in(with_roles)))
        closed_refs = self.store.closed_cases_of(actor, self.now() - timedelta(days=RECENT_DAYS))
        cases = [c for c in self.store.load_cases([*references, *closed_refs]) if c.conference.area in self.areas]
        needs_me: list[CaseLine] = []
        waiting: list[CaseLine] = []
        closed: list[CaseLine] = []
        for case in cases:
            ref = case.conference.reference
            line = CaseLine(ref, self.area_of(case.conference).name, self._next_step(case))
            if ref in closed_refs:
                closed.append(line)
                continue
            duties, _rights = self.dues_in(actor, case, roles_in[case.conference.area])
            if duties:
                needs_me.append(CaseLine(ref, line.area, line.next, tuple(duties)))
            elif ref in own:
                waiting.append(line)
        far = datetime.max.replace(tzinfo=self.now().tzinfo)
        needs_me.sort(key=lambda c: min((d.deadline.due or far for d in c.mine), default=far))
        waiting.sort(key=lambda c: c.next.due or far if c.next else far)
        return Overview(tuple(needs_me), tuple(waiting), tuple(closed))

    def status(self, actor: str, reference: str) -> tuple[CaseView, dict[str, str]]:
        """``status``: the case as :meth:`view` draws it, and which of its open duties are the viewer's,
        by deadline id, with what completing each takes (casework.duties.purpose), so the card can put
        the button beside the step (issue 14 item 3). Read in the view's one transaction: the roles the
        view reads are the roles that give the viewer duties, read with the case (one transaction):
        a chair's or an attendee's own duties come from the case itself, and a chair who is also the
        area's reviewing manager gets the "Decide now" button too."""
        loaded = self.store.load_case_for(self.reference(reference), actor)
        if loaded is None:
            raise UnknownConference(self.reference(reference))
        case, roles = loaded
        conference = case.conference
        if not may_view(actor, conference, roles):
            raise NotEntitled(f"case {conference.reference} is visible to its chair, attendees and managers only")
        view = self._view(case)
        held = roles | ({"chair"} if conference.chair_id == actor else set())
        held |= {"professional"} if is_attendee(actor, conference) else set()
        mine: dict[str, str] = {
            d.id: purpose(view.area, d.rule)
            for tl in self._work_timelines(case, view.timelines)
            for d in tl.deadlines
            if d.applicable
            and d.rule.kind == "duty"
            and d.status in ("pending", "missed")
            and d.rule.responsible in held
        }
        return view, mine

    def _next_step(self, case: CaseFile) -> Deadline | None:
        """The case's next open duty, soonest first (overdue ones first of all), whoever holds it."""
        open_ = [
            d
            for tl in self._work_timelines(case, self._view(case).timelines)
            for d in tl.deadlines
            if d.applicable and d.rule.kind == "duty" and d.status in ("pending", "missed")
        ]
        far = datetime.max.replace(tzinfo=self.now().tzinfo)
        return min(open_, key=lambda d: (d.status != "missed", d.due or far), default=None)
