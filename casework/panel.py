"""Inter-agency panel composition, checked against the area's pack (``[panel]``, :class:`PanelRules`).

The rules are the seeds': a minimum number of members (001 5.7.23; 000 §3 Stage 2), at least so many
from the named agencies (001 5.7.25), no one with previous or present direct line-management
responsibility for the case (001 5.7.25), and the chair normally from the agency least directly
involved (001 5.7.24). A proposal that breaks a rule is refused with :class:`PanelCompositionError`,
whose message names each broken rule and cites its source; "normally" is advice, so a chair from a
more involved agency is a warning, not a refusal.

People are professionals known by id; nothing here names a child or a family.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from casework.citations import Where, cite_text
from casework.errors import InvalidInput, PanelCompositionError
from casework.packs import AGENCY_TYPES, Area, PanelRules
from casework.records import CaseFile, Person


@dataclass(frozen=True, slots=True)
class PanelMember:
    """A proposed member: a professional's id, the agency they represent, and where to invite them."""

    person_id: str
    agency: str
    email: str = ""
    #: Their display name, so that a suggested chair is named on the card.
    name: str = ""


@dataclass(frozen=True)
class Involvement:
    """How each agency, and which people, were involved in the case.

    ``agencies`` counts each agency's part (the chair, each attendee, each dissent); ``line_managers``
    maps the id of someone with line-management responsibility for the case to why (in words without
    names); ``participants`` are the people who took part.
    """

    agencies: Mapping[str, int]
    line_managers: Mapping[str, str]
    participants: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PanelCheck:
    """A panel that satisfies the area's rules, with its chair and any advice."""

    members: tuple[PanelMember, ...]
    chair: PanelMember
    chair_suggested: bool
    least_involved: str
    warnings: tuple[str, ...]
    rules: PanelRules


def panel_rules(area: Area) -> PanelRules:
    """The area's panel rules; an area whose procedure sets no panel is told so."""
    if area.panel is None:
        raise InvalidInput(
            f"the {area.name} procedure sets no inter-agency panel ([panel] in {area.origin}); "
            "book the meeting without a composition check or add the rules to the pack"
        )
    return area.panel


def involvement(
    case: CaseFile, people: Mapping[str, Person], declared_line_managers: Iterable[str] = ()
) -> Involvement:
    """What the case record says about who was involved.

    ``people`` maps ids to :class:`Person` for at least the chair, the attendees and the dissenting
    professionals (their ``line_manager_id`` and the chair's agency are read from it).
    ``declared_line_managers`` are ids the complaints manager records as having had line-management
    responsibility for the case before (the record only knows present line managers).
    """
    conf = case.conference
    counts: dict[str, int] = {}
    involved: list[tuple[str, str]] = []  # (person id, their part)
    if conf.chair_id:
        chair = people.get(conf.chair_id)
        if chair is not None and chair.agency:
            counts[chair.agency] = counts.get(chair.agency, 0) + 1
        involved.append((conf.chair_id, "the conference chair"))
    for a in conf.attendees:
        if a.agency:
            counts[a.agency] = counts.get(a.agency, 0) + 1
        involved.append((a.person_id, f"an attendee ({a.agency or 'agency not recorded'})"))
    for d in case.dissents:
        if d.agency:
            counts[d.agency] = counts.get(d.agency, 0) + 1
        involved.append((d.person_id, f"a dissenting professional ({d.agency or 'agency not recorded'})"))
    managers: dict[str, str] = {}
    for pid, part in involved:
        p = people.get(pid)
        if p is not None and p.line_manager_id:
            managers.setdefault(p.line_manager_id, f"line manager of {part}")
    for pid in declared_line_managers:
        managers.setdefault(pid, "recorded as having had line-management responsibility for the case")
    return Involvement(counts, managers, frozenset(pid for pid, _ in involved))


def _cite(source: str, where: Where | None) -> str:
    """The rule's citation, by the procedure's name when the area's documents are given."""
    if not source:
        return ""
    return f" [{cite_text(source, where) if where is not None else source}]"


def _label(agency: str) -> str:
    return agency.replace("_", " ")


def least_involved(members: Sequence[PanelMember], inv: Involvement) -> str:
    """The members' agency least involved in the case (the first proposed among equals)."""
    if not members:
        raise InvalidInput("a panel needs members before a chair can be suggested")
    return min(members, key=lambda m: inv.agencies.get(m.agency, 0)).agency


def check_panel(
    rules: PanelRules,
    members: Sequence[PanelMember],
    inv: Involvement,
    chair_id: str | None = None,
    where: Where | None = None,
) -> PanelCheck:
    """Check a proposed panel; refuse it with every broken rule and its citation (by the procedure's
    name when ``where``, the case's area, is given: casework.citations).

    With no ``chair_id`` the chair is suggested: the first proposed member from the least involved
    agency (001 5.7.24). A proposed chair from a more involved agency is allowed with a warning.
    """
    problems: list[str] = []
    warnings: list[str] = []
    seen: set[str] = set()
    unique: list[PanelMember] = []
    for m in members:
        if m.person_id in seen:
            problems.append(f"{m.person_id} is proposed twice; each member counts once")
            continue
        seen.add(m.person_id)
        unique.append(m)
        if m.agency not in AGENCY_TYPES:
            problems.append(
                f"{m.person_id}'s agency {m.agency!r} is not one of the agency types the packs use "
                f"({', '.join(AGENCY_TYPES)})"
            )
    if len(unique) < rules.minimum_members:
        problems.append(
            f"a panel needs at least {rules.minimum_members} members; {len(unique)} proposed"
            + _cite(rules.minimum_source, where)
        )
    if rules.required_count:
        present = sorted({m.agency for m in unique if m.agency in rules.required_agencies})
        if len(present) < rules.required_count:
            names = ", ".join(_label(a) for a in rules.required_agencies)
            have = ", ".join(_label(a) for a in present) or "none"
            problems.append(
                f"at least {rules.required_count} members must come from different agencies among {names}; "
                f"proposed: {have}" + _cite(rules.required_source, where)
            )
    if rules.no_line_management:
        for m in unique:
            why = inv.line_managers.get(m.person_id)
            if why is not None:
                problems.append(
                    f"{m.person_id} has line-management responsibility for the case ({why}); members must have "
                    "had no previous or present direct line-management responsibility for it"
                    + _cite(rules.no_line_management_source, where)
                )
    for m in unique:
        if m.person_id in inv.participants:
            warnings.append(f"{m.person_id} took part in the case; a panel member should be independent of it")
    chair: PanelMember | None = None
    if chair_id is not None:
        chair = next((m for m in unique if m.person_id == chair_id), None)
        if chair is None:
            problems.append(f"the proposed chair {chair_id} is not one of the panel's members")
    if problems:
        raise PanelCompositionError(problems)
    least = least_involved(unique, inv)
    suggested = chair is None
    if chair is None:
        chair = next(m for m in unique if m.agency == least)
    elif rules.chair_least_involved and inv.agencies.get(chair.agency, 0) > inv.agencies.get(least, 0):
        warnings.append(
            f"the chair {chair.person_id} represents {_label(chair.agency)}, which was more involved in the case "
            f"than {_label(least)}; the agency least directly involved should normally chair it"
            + _cite(rules.chair_source, where)
        )
    return PanelCheck(tuple(unique), chair, suggested, least, tuple(warnings), rules)


def replace_member(
    rules: PanelRules,
    current: Sequence[PanelMember],
    leaving: str,
    joining: PanelMember,
    inv: Involvement,
    chair_id: str | None = None,
    where: Where | None = None,
) -> PanelCheck:
    """The panel with one member swapped (after a decline), checked again; the chair is kept unless
    it is the one leaving, when a new one is suggested."""
    if not any(m.person_id == leaving for m in current):
        raise InvalidInput(f"{leaving} is not on the panel")
    members = [joining if m.person_id == leaving else m for m in current]
    return check_panel(rules, members, inv, None if chair_id == leaving else chair_id, where)
