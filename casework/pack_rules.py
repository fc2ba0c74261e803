"""Parsing one ``[[rules]]`` table of a pack into a :class:`~casework.rules.Rule`.

A rule is ``{id, kind, title, within | before | next_meeting, of, completed_by, responsible,
source}`` (ARCHITECTURE: Domain vocabulary), with ``or_within`` alternatives ("whichever is
sooner"); a step the seed gives no number of days for carries its words in ``timescale``. A
``flag`` (how long something may last, :mod:`casework.rules`) has one ``within`` and nothing else
that dates it. Every problem is collected with its key, as for the rest of the pack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from casework.pack_fields import Collector, read_names, read_period, read_str
from casework.periods import Period
from casework.records import ROLES
from casework.rules import KINDS, PROCESSES, Candidate, Rule


def parse_candidate(
    c: Collector,
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
    of = read_names(c, raw, "of", where, known) if "of" in raw else default_of
    if not of:
        c.add(f"{where}.of", "the event (or list of events, first present wins) that starts the clock")
    occurrence = raw.get("occurrence", "first")
    if occurrence not in ("first", "last"):
        c.add(f"{where}.occurrence", "'first' or 'last'")
        occurrence = "first"
    extended = read_period(c, raw["extended"], f"{where}.extended") if "extended" in raw else None
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
    period = read_period(c, raw[form], f"{where}.{form}")
    if period is None:
        return None
    if form == "before" and period.unit in ("hours", "minutes"):
        c.add(f"{where}.before", "days, working days, weeks or months (hours before an event are not used)")
    return Candidate(form, period, of, occurrence, extended, None, source)  # type: ignore[arg-type]


def _flag(c: Collector, raw: Mapping[str, Any], where: str, candidates: list[Candidate]) -> list[Candidate]:
    """A flag measures one length of time, from its start to its end: one ``within`` and no other way of
    dating it. Its hours are elapsed hours whatever the area's ``hours_mean_working_days`` (a meeting's
    two hours are two hours on the clock), so they are kept as minutes."""
    if any(k in raw for k in ("before", "next_meeting", "or_within", "extended")) or "within" not in raw:
        c.add(f"{where}.within", "for a flag, one 'within' (how long it may last) and no before, or_within or extended")
    return [
        replace(x, period=Period(x.period.amount * 60, "minutes", x.period.text))
        if x.period is not None and x.period.unit == "hours"
        else x
        for x in candidates
    ]


def parse_rule(
    c: Collector, raw: Any, index: int, known: frozenset[str], meetings: Mapping[str, tuple[date, ...]]
) -> Rule | None:
    where = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        c.add(where, "a table")
        return None
    before = len(c.errors)
    rid = read_str(c, raw, "id", where)
    if rid:
        where = f"rules[{rid}]"
    process = raw.get("process")
    if process not in PROCESSES:
        c.add(f"{where}.process", f"one of {', '.join(PROCESSES)}")
    kind = raw.get("kind")
    if kind not in KINDS:
        c.add(
            f"{where}.kind",
            "'window' (a right that expires), 'duty' (what staff must do by a date) or "
            "'flag' (how long something may last: shown when exceeded, nobody's duty)",
        )
    title = read_str(c, raw, "title", where)
    responsible = raw.get("responsible")
    if responsible not in ROLES:
        c.add(f"{where}.responsible", f"one of the roles {', '.join(ROLES)}")
    source = read_str(c, raw, "source", where)
    completed_by = read_names(c, raw, "completed_by", where, known)
    if not completed_by:
        c.add(f"{where}.completed_by", "the event (or events) that meet the deadline")
    of = read_names(c, raw, "of", where, known) if "of" in raw else ()
    candidates: list[Candidate] = []
    if any(k in raw for k in ("within", "before", "next_meeting")):
        primary = {k: v for k, v in raw.items() if k not in ("of", "source")}
        cand = parse_candidate(c, primary, where, known, of, meetings)
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
        cand = parse_candidate(c, alt, f"{where}.or_within[{i}]", known, of, meetings)
        if cand:
            candidates.append(cand)
    if kind == "flag":
        candidates = _flag(c, raw, where, candidates)
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
    applies_if = read_names(c, raw, "applies_if", where, known)
    unless = read_names(c, raw, "unless", where, known)
    note = _optional_text(c, raw, "note", where)
    extras = _second_pass_keys(c, raw, where, known, kind, candidates, extension_event)
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
        *_SECOND_PASS_KEYS,
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
        **extras,
    )


_SECOND_PASS_KEYS = (
    "each",
    "since",
    "satisfied_by",
    "late_discretion",
    "late_source",
    "extension_before_due",
    "assumption",
    "assume",
)


def _optional_text(c: Collector, raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        c.add(f"{where}.{key}", "a string")
        return None
    return value


def _second_pass_keys(
    c: Collector,
    raw: Mapping[str, Any],
    where: str,
    known: frozenset[str],
    kind: Any,
    candidates: list[Candidate],
    extension_event: Any,
) -> dict[str, Any]:
    """Repeats, satisfaction, discretion, late extensions and stated assumptions (issue 10)."""
    out: dict[str, Any] = {}
    each = raw.get("each", False)
    if not isinstance(each, bool):
        c.add(f"{where}.each", "true or false")
        each = False
    if each and len(candidates) != 1:
        c.add(f"{where}.each", "a rule that repeats for each occurrence has exactly one way of dating it")
    out["each"] = each
    out["since"] = read_names(c, raw, "since", where, known)
    out["satisfied_by"] = read_names(c, raw, "satisfied_by", where, known)
    late = raw.get("late_discretion")
    if late is not None and (late not in ROLES or kind != "window"):
        c.add(f"{where}.late_discretion", f"for a window, the role that may accept it late ({', '.join(ROLES)})")
        late = None
    out["late_discretion"] = late
    out["late_source"] = _optional_text(c, raw, "late_source", where)
    if late is not None and not out["late_source"]:
        c.add(f"{where}.late_source", "the paragraph that gives the discretion")
    before_due = raw.get("extension_before_due", False)
    if not isinstance(before_due, bool) or (before_due and extension_event is None):
        c.add(f"{where}.extension_before_due", "true or false, on a rule with an extension_event")
        before_due = False
    out["extension_before_due"] = before_due
    out["assumption"] = _optional_text(c, raw, "assumption", where)
    assume = raw.get("assume", {})
    if not isinstance(assume, Mapping) or not all(isinstance(v, str) for v in assume.values()):
        c.add(f"{where}.assume", "a table of event = 'why that event is counted'")
        assume = {}
    for name in assume:
        if name.removeprefix("!") not in known:
            c.add(f"{where}.assume", f"a known event, not {name!r}")
    out["assume"] = tuple(assume.items())
    return out
