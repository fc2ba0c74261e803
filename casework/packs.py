"""Procedure packs: one TOML document per safeguarding partnership, parsed and validated here.

Reading the files is the adapters' job (``app/procedures.py``); this module turns the parsed
mapping into an :class:`Area`, collecting every problem with its file, key and what was expected so
that ``cpc procedures check`` can list them all at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from casework.calendar import NATIONS, WorkingCalendar, calendar_for
from casework.errors import MalformedPeriod, PackError, UnknownProcess
from casework.events import CANONICAL_EVENTS
from casework.lifecycle.spec import DEFAULT_LIFECYCLE, ComplaintLifecycle, parse_lifecycle
from casework.periods import parse_period
from casework.records import ROLES
from casework.reminders import DEFAULT_SETTINGS, ReminderSettings, parse_reminders
from casework.rules import KINDS, PROCESSES, Candidate, Rule

AGENCY_TYPES: tuple[str, ...] = (
    "police",
    "social_care",
    "education",
    "health",
    "probation",
    "local_authority",
    "voluntary",
    "other",
)


@dataclass(frozen=True, slots=True)
class PanelRules:
    """Inter-agency panel composition (000 §3 Stage 2; 001 5.7.23-5.7.25; 002 1b)."""

    minimum_members: int
    required_agencies: tuple[str, ...]
    required_count: int
    required_source: str
    minimum_source: str
    no_line_management: bool = True
    no_line_management_source: str = ""
    chair_least_involved: bool = True
    chair_source: str = ""
    papers: tuple[str, ...] = ()
    papers_source: str = ""
    letter_time: str | None = None


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    text: str
    source: str


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    nation: str
    seed: str
    origin: str
    rules: tuple[Rule, ...]
    extra_events: tuple[str, ...] = ()
    closure_days: frozenset[date] = frozenset()
    hours_mean_working_days: bool = False
    meetings: Mapping[str, tuple[date, ...]] = field(default_factory=dict)
    panel: PanelRules | None = None
    criteria: tuple[Criterion, ...] = ()
    extends: str | None = None
    notes: tuple[str, ...] = ()
    # The optional [reminders] table (casework.reminders.parse_reminders documents its keys): the
    # reminder plans of this area's duties and windows, when they differ from the defaults.
    reminders: ReminderSettings = DEFAULT_SETTINGS
    # The optional [lifecycle.complaint] table (casework.lifecycle.spec documents it): which complaint
    # step may follow which, from the seed; inherited from the parent pack, else the default.
    complaint_lifecycle: ComplaintLifecycle = DEFAULT_LIFECYCLE

    # Derived once per area (cached_property writes the instance dict, which a frozen dataclass allows):
    # a timeline is evaluated thousands of times against the same area.
    @cached_property
    def calendar(self) -> WorkingCalendar:
        return calendar_for(self.nation, self.closure_days)

    @cached_property
    def events(self) -> frozenset[str]:
        return frozenset(CANONICAL_EVENTS) | frozenset(self.extra_events)

    @cached_property
    def processes(self) -> tuple[str, ...]:
        return tuple(p for p in PROCESSES if any(r.process == p for r in self.rules))

    @cached_property
    def _by_process(self) -> dict[str, tuple[Rule, ...]]:
        return {p: tuple(r for r in self.rules if r.process == p) for p in self.processes}

    def rules_for(self, process: str) -> tuple[Rule, ...]:
        rules = self._by_process.get(process)
        if not rules:
            raise UnknownProcess(process, self.id, list(self.processes))
        return rules

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


class _Collector:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.errors: list[PackError] = []

    def add(self, key: str, expected: str) -> None:
        self.errors.append(PackError(self.origin, key, expected))


def _str(c: _Collector, raw: Mapping[str, Any], key: str, where: str, required: bool = True) -> str | None:
    v = raw.get(key)
    if v is None:
        if required:
            c.add(f"{where}.{key}" if where else key, "a non-empty string")
        return None
    if not isinstance(v, str) or not v.strip():
        c.add(f"{where}.{key}" if where else key, "a non-empty string")
        return None
    return v


def _names(c: _Collector, raw: Mapping[str, Any], key: str, where: str, known: frozenset[str]) -> tuple[str, ...]:
    v = raw.get(key, [])
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        c.add(f"{where}.{key}", "an event name or a list of event names")
        return ()
    for x in items:
        if x not in known:
            c.add(f"{where}.{key}", f"a known event (canonical or declared in 'events'), not {x!r}")
    return tuple(items)


def _period(c: _Collector, text: Any, key: str) -> Any:
    if not isinstance(text, str):
        c.add(key, "a period such as '10 working days'")
        return None
    try:
        return parse_period(text)
    except MalformedPeriod:
        c.add(key, "a period such as '72 hours', '10 working days', '28 days', '10 weeks' or '3 months'")
        return None


def _candidate(
    c: _Collector,
    raw: Mapping[str, Any],
    where: str,
    known: frozenset[str],
    default_of: tuple[str, ...],
    meetings: Mapping[str, tuple[date, ...]],
) -> Candidate | None:
    forms = [k for k in ("within", "before", "next_meeting") if k in raw]
    if len(forms) != 1:
        c.add(where, "exactly one of 'within', 'before' or 'next_meeting'")
        return None
    form = forms[0]
    of = _names(c, raw, "of", where, known) if "of" in raw else default_of
    if not of:
        c.add(f"{where}.of", "the event (or list of events, first present wins) that starts the clock")
    occurrence = raw.get("occurrence", "first")
    if occurrence not in ("first", "last"):
        c.add(f"{where}.occurrence", "'first' or 'last'")
        occurrence = "first"
    extended = _period(c, raw["extended"], f"{where}.extended") if "extended" in raw else None
    source = raw.get("source")
    if source is not None and not isinstance(source, str):
        c.add(f"{where}.source", "a citation string")
        source = None
    if form == "next_meeting":
        name = raw["next_meeting"]
        if not isinstance(name, str) or name not in meetings:
            c.add(
                f"{where}.next_meeting",
                f"the name of a list under [meetings] ({', '.join(meetings) or 'none'})",
            )
            return None
        return Candidate("next_meeting", None, of, occurrence, None, name, source)
    period = _period(c, raw[form], f"{where}.{form}")
    if period is None:
        return None
    if form == "before" and period.unit == "hours":
        c.add(f"{where}.before", "days, working days, weeks or months (hours before an event are not used)")
    return Candidate(form, period, of, occurrence, extended, None, source)  # type: ignore[arg-type]


def _rule(
    c: _Collector, raw: Any, index: int, known: frozenset[str], meetings: Mapping[str, tuple[date, ...]]
) -> Rule | None:
    where = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        c.add(where, "a table")
        return None
    before = len(c.errors)
    rid = _str(c, raw, "id", where)
    if rid:
        where = f"rules[{rid}]"
    process = raw.get("process")
    if process not in PROCESSES:
        c.add(f"{where}.process", f"one of {', '.join(PROCESSES)}")
    kind = raw.get("kind")
    if kind not in KINDS:
        c.add(f"{where}.kind", "'window' (a right that expires) or 'duty' (what staff must do by a date)")
    title = _str(c, raw, "title", where)
    responsible = raw.get("responsible")
    if responsible not in ROLES:
        c.add(f"{where}.responsible", f"one of the roles {', '.join(ROLES)}")
    source = _str(c, raw, "source", where)
    completed_by = _names(c, raw, "completed_by", where, known)
    if not completed_by:
        c.add(f"{where}.completed_by", "the event (or events) that meet the deadline")
    of = _names(c, raw, "of", where, known) if "of" in raw else ()
    candidates: list[Candidate] = []
    if any(k in raw for k in ("within", "before", "next_meeting")):
        primary = {k: v for k, v in raw.items() if k not in ("of", "source")}
        cand = _candidate(c, primary, where, known, of, meetings)
        if cand:
            candidates.append(cand)
    alternatives = raw.get("or_within", [])
    if not isinstance(alternatives, list):
        c.add(f"{where}.or_within", "a list of tables, each with within/before and optionally of and source")
        alternatives = []
    for i, alt in enumerate(alternatives):
        if not isinstance(alt, Mapping):
            c.add(f"{where}.or_within[{i}]", "a table")
            continue
        cand = _candidate(c, alt, f"{where}.or_within[{i}]", known, of, meetings)
        if cand:
            candidates.append(cand)
    timescale = raw.get("timescale")
    if not candidates:
        if not isinstance(timescale, str) or not timescale.strip():
            c.add(
                f"{where}.timescale",
                "for a step with no number in the seed, the words it uses (e.g. 'immediately'); "
                "otherwise give 'within', 'before' or 'next_meeting'",
            )
        if not of:
            c.add(f"{where}.of", "the event that starts this step")
    extension_event = raw.get("extension_event")
    if extension_event is not None and extension_event not in known:
        c.add(f"{where}.extension_event", "a known event name")
    if any(cand.extended for cand in candidates) and extension_event is None:
        c.add(f"{where}.extension_event", "the event that authorises the extended period")
    applies_if = _names(c, raw, "applies_if", where, known)
    unless = _names(c, raw, "unless", where, known)
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        c.add(f"{where}.note", "a string")
        note = None
    allowed = {
        "id",
        "process",
        "kind",
        "title",
        "within",
        "before",
        "next_meeting",
        "of",
        "occurrence",
        "extended",
        "or_within",
        "completed_by",
        "responsible",
        "source",
        "timescale",
        "note",
        "applies_if",
        "unless",
        "extension_event",
    }
    for key in raw:
        if key not in allowed:
            c.add(f"{where}.{key}", f"no such key; rule keys are {', '.join(sorted(allowed))}")
    if len(c.errors) > before:
        return None
    assert rid and title and source and isinstance(process, str) and isinstance(responsible, str)
    return Rule(
        id=rid,
        process=process,
        kind=kind,  # type: ignore[arg-type]
        title=title,
        candidates=tuple(candidates),
        completed_by=completed_by,
        responsible=responsible,
        source=source,
        starts_on=of,
        timescale=timescale if not candidates else None,
        note=note,
        applies_if=applies_if,
        unless=unless,
        extension_event=extension_event,
    )


def _dates(c: _Collector, raw: Any, key: str) -> tuple[date, ...]:
    if not isinstance(raw, list):
        c.add(key, "a list of dates (YYYY-MM-DD)")
        return ()
    out: list[date] = []
    for i, v in enumerate(raw):
        if isinstance(v, date):
            out.append(v)
            continue
        try:
            out.append(date.fromisoformat(str(v)))
        except ValueError:
            c.add(f"{key}[{i}]", "a date YYYY-MM-DD")
    return tuple(sorted(out))


def _panel(c: _Collector, raw: Any) -> PanelRules | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        c.add("panel", "a table")
        return None
    mm = raw.get("minimum_members")
    if not isinstance(mm, int) or mm < 1:
        c.add("panel.minimum_members", "a whole number of at least 1")
        mm = 1
    req = raw.get("required_agencies", [])
    if not isinstance(req, list) or any(a not in AGENCY_TYPES for a in req):
        c.add("panel.required_agencies", f"a list of agency types from {', '.join(AGENCY_TYPES)}")
        req = []
    rc = raw.get("required_count", len(req))
    if not isinstance(rc, int) or rc < 0 or (rc > max(len(req), 0) and req):
        c.add("panel.required_count", "how many members must come from required_agencies (at most their number)")
        rc = 0
    papers = raw.get("papers", [])
    if not isinstance(papers, list) or not all(isinstance(p, str) for p in papers):
        c.add("panel.papers", "a list of strings")
        papers = []
    for key in ("required_source", "minimum_source"):
        if not isinstance(raw.get(key), str):
            c.add(f"panel.{key}", "the citation for this rule")
    letter = raw.get("letter_time")
    if letter is not None:
        _period(c, letter, "panel.letter_time")
    return PanelRules(
        minimum_members=mm,
        required_agencies=tuple(req),
        required_count=rc,
        required_source=str(raw.get("required_source", "")),
        minimum_source=str(raw.get("minimum_source", "")),
        no_line_management=bool(raw.get("no_line_management", True)),
        no_line_management_source=str(raw.get("no_line_management_source", "")),
        chair_least_involved=bool(raw.get("chair_least_involved", True)),
        chair_source=str(raw.get("chair_source", "")),
        papers=tuple(papers),
        papers_source=str(raw.get("papers_source", "")),
        letter_time=letter if isinstance(letter, str) else None,
    )


def build_area(raw: Mapping[str, Any], origin: str, parent: Area | None = None) -> tuple[Area | None, list[PackError]]:
    """Validate and build one pack. ``parent`` is the resolved pack named by ``area.extends``.

    A child pack inherits its parent's rules, events, panel, meetings and criteria; a rule with the
    same id replaces the parent's, and ``remove_rules`` drops rules the local variant does not use.
    """
    c = _Collector(origin)
    head = raw.get("area")
    if not isinstance(head, Mapping):
        c.add("area", "a table [area] with id, name, nation and seed")
        return None, c.errors
    area_id = _str(c, head, "id", "area")
    name = _str(c, head, "name", "area")
    seed = _str(c, head, "seed", "area")
    nation = head.get("nation", parent.nation if parent else None)
    if nation not in NATIONS:
        c.add("area.nation", f"one of {', '.join(NATIONS)} (whose bank holidays apply)")
    closures = _dates(c, head.get("closure_days", []), "area.closure_days")
    hours_wd = head.get("hours_mean_working_days", parent.hours_mean_working_days if parent else False)
    if not isinstance(hours_wd, bool):
        c.add("area.hours_mean_working_days", "true or false")
        hours_wd = False
    extra = head.get("events", [])
    if not isinstance(extra, list) or not all(isinstance(e, str) and e.isidentifier() for e in extra):
        c.add("area.events", "a list of extra event names (lower_snake_case)")
        extra = []
    extra_events = tuple(dict.fromkeys([*(parent.extra_events if parent else ()), *extra]))
    known = frozenset(CANONICAL_EVENTS) | frozenset(extra_events)
    meetings: dict[str, tuple[date, ...]] = dict(parent.meetings) if parent else {}
    raw_meetings = raw.get("meetings", {})
    if not isinstance(raw_meetings, Mapping):
        c.add("meetings", "a table of named lists of meeting dates")
    else:
        for k, v in raw_meetings.items():
            meetings[k] = _dates(c, v, f"meetings.{k}")
    rules: dict[str, Rule] = {r.id: r for r in parent.rules} if parent else {}
    for rid in raw.get("remove_rules", []):
        if rid not in rules:
            c.add("remove_rules", f"ids of the parent's rules, not {rid!r}")
        rules.pop(rid, None)
    raw_rules = raw.get("rules", [])
    if not isinstance(raw_rules, list):
        c.add("rules", "an array of tables [[rules]]")
        raw_rules = []
    seen: set[str] = set()
    for i, rr in enumerate(raw_rules):
        rule = _rule(c, rr, i, known, meetings)
        if rule is None:
            continue
        if rule.id in seen:
            c.add(f"rules[{rule.id}].id", "an id not used by another rule in this pack")
        seen.add(rule.id)
        rules[rule.id] = rule
    panel = _panel(c, raw.get("panel")) if "panel" in raw else (parent.panel if parent else None)
    criteria: list[Criterion] = list(parent.criteria) if parent else []
    for i, cr in enumerate(raw.get("criteria", [])):
        if not isinstance(cr, Mapping) or not all(isinstance(cr.get(k), str) for k in ("id", "text", "source")):
            c.add(f"criteria[{i}]", "a table with id, text and source")
            continue
        criteria.append(Criterion(cr["id"], cr["text"], cr["source"]))
    notes = raw.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        c.add("notes", "a list of strings")
        notes = []
    # [reminders] is optional: a child pack inherits its parent's plans and overrides what it names.
    reminders, reminder_errors = parse_reminders(
        raw.get("reminders"), origin, rules, parent.reminders if parent else None
    )
    c.errors.extend(reminder_errors)
    lifecycle, lifecycle_errors = parse_lifecycle(
        raw.get("lifecycle"), known, parent.complaint_lifecycle if parent else None
    )
    for key, expected in lifecycle_errors:
        c.add(key, expected)
    allowed_top = {"area", "meetings", "rules", "remove_rules", "panel", "criteria", "notes", "reminders", "lifecycle"}
    for key in raw:
        if key not in allowed_top:
            c.add(key, f"no such top-level key; expected {', '.join(sorted(allowed_top))}")
    if not rules:
        c.add("rules", "at least one [[rules]] entry (or extends a pack that has some)")
    if c.errors:
        return None, c.errors
    assert area_id and name and seed and isinstance(nation, str)
    extends = head.get("extends")
    return (
        Area(
            id=area_id,
            name=name,
            nation=nation,
            seed=seed,
            origin=origin,
            rules=tuple(rules.values()),
            extra_events=extra_events,
            closure_days=frozenset(closures) | (parent.closure_days if parent else frozenset()),
            hours_mean_working_days=hours_wd,
            meetings=meetings,
            panel=panel,
            criteria=tuple(criteria),
            extends=extends if isinstance(extends, str) else None,
            notes=tuple(notes),
            reminders=reminders,
            complaint_lifecycle=lifecycle,
        ),
        [],
    )


def resolve_packs(
    raws: Mapping[str, tuple[Mapping[str, Any], str]],
) -> tuple[dict[str, Area], list[PackError]]:
    """Build every pack, parents first; ``raws`` maps area id to (parsed TOML, origin file).

    Returns the areas that validated and every error found (a broken parent fails its children too).
    """
    areas: dict[str, Area] = {}
    errors: list[PackError] = []
    failed: set[str] = set()

    def build(area_id: str, chain: tuple[str, ...]) -> Area | None:
        if area_id in areas:
            return areas[area_id]
        if area_id in failed:
            return None
        raw, origin = raws[area_id]
        head = raw.get("area", {})
        parent_id = head.get("extends") if isinstance(head, Mapping) else None
        parent: Area | None = None
        if parent_id is not None:
            if not isinstance(parent_id, str) or parent_id not in raws:
                errors.append(PackError(origin, "area.extends", f"the id of another pack, not {parent_id!r}"))
                failed.add(area_id)
                return None
            if parent_id in chain:
                errors.append(PackError(origin, "area.extends", "a pack that does not extend this one (cycle)"))
                failed.add(area_id)
                return None
            parent = build(parent_id, (*chain, area_id))
            if parent is None:
                errors.append(PackError(origin, "area.extends", f"a valid pack; {parent_id!r} has errors"))
                failed.add(area_id)
                return None
        area, errs = build_area(raw, origin, parent)
        errors.extend(errs)
        if area is None:
            failed.add(area_id)
            return None
        areas[area_id] = area
        return area

    for area_id in raws:
        build(area_id, ())
    return areas, errors
