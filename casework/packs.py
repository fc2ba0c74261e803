"""Procedure packs: one TOML document per safeguarding partnership, parsed and validated here.

Reading the files is the adapters' job (``app/procedures.py``); this module turns the parsed
mapping into an :class:`Area`, collecting every problem with its file, key and what was expected so
that ``cpc procedures check`` can list them all at once.

This module builds whole packs (``extends``, ``remove_rules``, the ``[panel]`` table) and is the one
import path for their vocabulary; the parts live by responsibility: the validated area in
:mod:`casework.areas`, the field readers in :mod:`casework.pack_fields`, one ``[[rules]]`` table in
:mod:`casework.pack_rules`, and the ``[reminders]`` table in :mod:`casework.reminder_pack`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from casework.areas import AGENCY_TYPES, Area, Criterion, PanelRules, typed_reference
from casework.calendar import NATIONS
from casework.citations import SAFE_URL, Document
from casework.errors import PackError
from casework.events import CANONICAL_EVENTS
from casework.lifecycle.spec import parse_lifecycle
from casework.pack_fields import Collector, read_dates, read_period, read_str
from casework.pack_rules import parse_rule
from casework.references import DEFAULT_PATTERN, BadPattern, check_pattern
from casework.reminder_pack import parse_reminders
from casework.rules import Rule

__all__ = ["AGENCY_TYPES", "Area", "Criterion", "PanelRules", "build_area", "resolve_packs", "typed_reference"]


def _panel(c: Collector, raw: Any) -> PanelRules | None:
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
        read_period(c, letter, "panel.letter_time")
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


def _document(c: Collector, head: Mapping[str, Any], seed: str | None, parent: Area | None) -> Document | None:
    """The procedure the pack encodes: ``source_title`` and ``source_url`` name it, ``source_cited_as``
    is how its sources cite it (the seed file by default). A child citing its parent's document
    inherits the title and address it does not give."""
    title = read_str(c, head, "source_title", "area", required=False)
    url = read_str(c, head, "source_url", "area", required=False)
    key = read_str(c, head, "source_cited_as", "area", required=False) or seed
    if url is not None and not SAFE_URL.fullmatch(url):
        c.add("area.source_url", "the procedure's public address: http:// or https://, no spaces, brackets or quotes")
        url = None
    inherited = parent.document if parent and parent.document and parent.document.key == key else None
    if inherited is not None:
        title, url = title or inherited.title, url or inherited.url
    if key is None or title is None:
        return None
    return Document(key, title, url)


def _reference_pattern(c: Collector, head: Mapping[str, Any], parent: Area | None) -> str:
    """``[area] reference_pattern``: the regular expression this authority's case references match
    (the parent's when not given, else CPC- and digits)."""
    inherited = parent.reference_pattern if parent else DEFAULT_PATTERN
    raw = head.get("reference_pattern")
    if raw is None:
        return inherited
    if not isinstance(raw, str):
        c.add("area.reference_pattern", "a regular expression a whole case reference must match, as a string")
        return inherited
    try:
        return check_pattern(raw)
    except BadPattern as exc:
        c.add("area.reference_pattern", str(exc))
        return inherited


def build_area(raw: Mapping[str, Any], origin: str, parent: Area | None = None) -> tuple[Area | None, list[PackError]]:
    """Validate and build one pack. ``parent`` is the resolved pack named by ``area.extends``.

    A child pack inherits its parent's rules, events, panel, meetings and criteria; a rule with the
    same id replaces the parent's, and ``remove_rules`` drops rules the local variant does not use.
    """
    c = Collector(origin)
    head = raw.get("area")
    if not isinstance(head, Mapping):
        c.add("area", "a table [area] with id, name, nation and seed")
        return None, c.errors
    area_id = read_str(c, head, "id", "area")
    name = read_str(c, head, "name", "area")
    seed = read_str(c, head, "seed", "area")
    document = _document(c, head, seed, parent)
    reference_pattern = _reference_pattern(c, head, parent)
    nation = head.get("nation", parent.nation if parent else None)
    if nation not in NATIONS:
        c.add("area.nation", f"one of {', '.join(NATIONS)} (whose bank holidays apply)")
    closures = read_dates(c, head.get("closure_days", []), "area.closure_days")
    retention_months = parent.retention_months if parent else 72
    if "retention" in head:
        period = read_period(c, head["retention"], "area.retention")
        if period is not None and period.unit != "months":
            c.add("area.retention", "a period in months or years, such as '6 years'")
        elif period is not None:
            retention_months = period.amount
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
            meetings[k] = read_dates(c, v, f"meetings.{k}")
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
        rule = parse_rule(c, rr, i, known, meetings)
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
    documents = dict(parent.documents) if parent else {}
    own = list(parent.own_documents) if parent else []
    if document is not None:
        documents[document.key] = document
        own.insert(0, document.key)
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
            retention_months=retention_months,
            meetings=meetings,
            panel=panel,
            criteria=tuple(criteria),
            extends=extends if isinstance(extends, str) else None,
            notes=tuple(notes),
            reminders=reminders,
            complaint_lifecycle=lifecycle,
            document=document,
            own_documents=tuple(dict.fromkeys(own)),
            documents=documents,
            reference_pattern=reference_pattern,
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
    return _with_catalogue(areas, errors), errors


def _with_catalogue(areas: dict[str, Area], errors: list[PackError]) -> dict[str, Area]:
    """Every area with every pack's document, since a citation may name another pack's procedure.
    Two packs naming one document differently is an error, and the later pack is not loaded."""
    catalogue: dict[str, tuple[Document, str]] = {}
    kept: dict[str, Area] = {}
    for area_id, area in areas.items():
        doc = area.document
        if doc is not None and doc.key in catalogue and catalogue[doc.key][0] != doc:
            first, by = catalogue[doc.key]
            errors.append(
                PackError(
                    area.origin,
                    "area.source_title",
                    f"the title and address {by!r} gives {doc.key} ({first.title!r}, {first.url or 'no address'})",
                )
            )
            continue
        if doc is not None:
            catalogue.setdefault(doc.key, (doc, area_id))
        kept[area_id] = area
    documents = {key: doc for key, (doc, _) in catalogue.items()}
    return {area_id: replace(area, documents={**area.documents, **documents}) for area_id, area in kept.items()}
