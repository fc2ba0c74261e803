"""A proposed panel for one case, checked against its area's rules (ARCHITECTURE: Flow 2 and Flow 3).

The members must be registered people (their agency decides the composition rules, 001 5.7.25),
and the people already involved in the case (its chair, attendees and dissenters) are read so that
:func:`casework.panel.involvement` can keep line management off the panel and choose the least
involved chair. A Stage 2 meeting is not a panel: it has no composition to check.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from casework.errors import InvalidInput
from casework.packs import Area
from casework.panel import PanelCheck, PanelMember, check_panel, involvement, panel_rules
from casework.ports import CaseStore
from casework.purposes import purpose_of
from casework.records import CaseFile, Person


def panel_members(store: CaseStore, member_ids: Sequence[str]) -> list[PanelMember]:
    """The proposed members as the panel rules see them; an unregistered id is refused."""
    out: list[PanelMember] = []
    for pid in member_ids:
        p = store.get_person(pid)
        if p is None:
            raise InvalidInput(f"{pid} is not registered; add them first (cpc people add)")
        out.append(PanelMember(p.id, p.agency, p.email, p.display_name))
    return out


def case_people(store: CaseStore, case: CaseFile) -> dict[str, Person]:
    """The registered people already involved in the case: its chair, attendees and dissenters."""
    ids = {case.conference.chair_id, *(a.person_id for a in case.conference.attendees)}
    ids |= {d.person_id for d in case.dissents}
    out: dict[str, Person] = {}
    for pid in ids:
        if pid is None:
            continue
        p = store.get_person(pid)
        if p is not None:
            out[pid] = p
    return out


def check_proposal(
    store: CaseStore,
    case: CaseFile,
    area: Area,
    purpose: str,
    members: Sequence[PanelMember],
    chair_id: str | None,
    declared: Iterable[str],
) -> PanelCheck | None:
    """The panel check for ``members`` (refused with each broken rule); None for a meeting that is no panel."""
    if not purpose_of(purpose).panel:
        return None
    inv = involvement(case, case_people(store, case), declared)
    return check_panel(panel_rules(area), members, inv, chair_id, area)
