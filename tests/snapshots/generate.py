"""Timeline snapshots of every procedure pack, as python-holidays keeps its own: dates committed as data.

A change of code, of a pack or of the ``holidays`` version that moves any statutory date should be seen
in review, not found by a family. So for every pack and process this module evaluates the timeline for
fixed, deterministic events and writes the dates (never the free-text explanation, which changes for
reasons of wording) to ``tests/snapshots/<area>.json``; ``tests/unit/test_snapshots.py`` regenerates
them in memory and fails with a diff on any difference. ``make snapshots`` rewrites the files.

The events are derived from the pack, not hand-picked, so that a new rule is covered without editing
this file. For each process, every event that starts one of its rules (and every ``applies_if`` event)
is recorded, one a day, in an order that respects ``casework.events.MUST_FOLLOW`` and the rules
themselves (a rule's completing event after its start; before a "before" rule's anchor). That runs in
three seasons chosen for the calendar: Christmas and New Year (substitute days), Easter with the spring
clock change, and the autumn clock change (elapsed-hour windows). Each season has an ``open`` scenario
(starts only) and a ``done`` one (each rule's first completing event and extension event added), and
a ``-without-<event>`` variant of both for every ``unless`` event that would drop a rule from them.
A meetings list the pack leaves empty gets fixed monthly dates, recorded in the file, so that
next-meeting rules are dated too.
"""

from __future__ import annotations

import argparse
import difflib
import heapq
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from app.procedures import load_catalogue
from casework.clock import LONDON, to_local_iso
from casework.events import CANONICAL_EVENTS, MUST_FOLLOW, Event
from casework.packs import Area
from casework.timeline import evaluate

SNAPSHOT_DIR = Path(__file__).resolve().parent
HINT = "run `make snapshots` if the change is intended"

# Where each season's first event falls; later events follow one a day (see module docstring).
SEASONS: tuple[tuple[str, date], ...] = (
    ("christmas", date(2026, 12, 16)),  # Christmas Fri 25 Dec, Boxing Day substitute Mon 28 Dec, 1 Jan 2027
    ("easter", date(2027, 3, 23)),  # Good Friday 26 Mar, clocks forward Sun 28 Mar, Easter Monday 29 Mar 2027
    ("autumn-clocks", date(2026, 10, 21)),  # clocks back Sun 25 Oct 2026, across a 72-hour window
)
EVENT_TIME = time(10, 0)
EVENT_GAP = timedelta(days=1)
NOW_AFTER = timedelta(days=45)  # "now" is fixed per season, so that statuses are stable too
NOW_TIME = time(12, 0)
# Synthetic dates for a meetings list a pack leaves empty: the second Wednesday of each month.
SYNTHETIC_MEETINGS_FROM = (2026, 9)
SYNTHETIC_MEETINGS_MONTHS = 16
SYNTHETIC_MEETINGS_NOTE = "second Wednesday of each month, 2026-09 to 2027-12 (the pack configures none)"
# The fields of ``Deadline.as_dict()`` that are dates or decided by them; never the explanation.
FIELDS: tuple[str, ...] = ("due", "status", "start", "start_event", "completed", "skipped")


@dataclass(frozen=True, slots=True)
class Scenario:
    """One fixed set of events for one process, with the name its snapshot is filed under."""

    name: str
    events: tuple[Event, ...]
    now: datetime


def _reaches(succ: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    stack = [start]
    while stack:
        n = stack.pop()
        if n == goal:
            return True
        if n not in seen:
            seen.add(n)
            stack.extend(succ[n])
    return False


def _precedence(area: Area, process: str) -> dict[str, set[str]]:
    """Which event must come before which: MUST_FOLLOW first, then what the process's rules imply.

    An edge that would close a cycle is dropped (a reconvened conference that completes a rule started
    after the first conference; a review that restarts the review clock): the order only has to be one
    the engine accepts and a reader finds plausible, and the earlier, stronger edges win.
    """
    succ: dict[str, set[str]] = {n: set() for n in sorted(area.events)}

    def add(first: str, then: str) -> None:
        if first != then and first in succ and then in succ and not _reaches(succ, then, first):
            succ[first].add(then)

    for later, befores in MUST_FOLLOW.items():
        for before in befores:
            add(before, later)
    for rule in area.rules_for(process):
        for c in rule.candidates:
            for anchor in c.of:
                for done in rule.completed_by:
                    if c.direction == "before":
                        add(done, anchor)  # reports due before the conference are sent before it
                    else:
                        add(anchor, done)
        for anchor in rule.starts_on:
            for done in rule.completed_by:
                add(anchor, done)
        if rule.extension_event:
            for anchor in rule.starts:
                add(anchor, rule.extension_event)
    return succ


def event_order(area: Area, process: str) -> list[str]:
    """Every event of the area's vocabulary in one fixed order that respects :func:`_precedence`.

    Ties go to the canonical order; a pack's own event sits just after the events it follows (or just
    before those it precedes), so ``managers_informed`` comes soon after ``complaint_received``.
    """
    succ = _precedence(area, process)
    pred: dict[str, set[str]] = {n: set() for n in succ}
    for a, bs in succ.items():
        for b in bs:
            pred[b].add(a)
    key: dict[str, float] = {n: float(i) for i, n in enumerate(CANONICAL_EVENTS) if n in succ}
    extras = [n for n in succ if n not in key]
    for _ in extras:
        for n in extras:
            before = [key[p] for p in pred[n] if p in key]
            after = [key[s] for s in succ[n] if s in key]
            if before:
                key[n] = max(before) + 0.5
            elif after:
                key[n] = min(after) - 0.5
    waiting = {n: len(pred[n]) for n in succ}
    ready = [(key.get(n, float(len(CANONICAL_EVENTS))), n) for n, k in waiting.items() if k == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n)
        for s in sorted(succ[n]):
            waiting[s] -= 1
            if waiting[s] == 0:
                heapq.heappush(ready, (key.get(s, float(len(CANONICAL_EVENTS))), s))
    assert len(order) == len(succ), "precedence graph has a cycle"
    return order


def event_sets(area: Area, process: str) -> list[tuple[str, frozenset[str]]]:
    """The named sets of events recorded for one process, before they are given dates."""
    rules = area.rules_for(process)
    opened = {n for r in rules for n in (*r.starts, *r.applies_if)}
    done = set(opened)
    for r in rules:
        if r.completed_by and not done.intersection(r.completed_by):
            done.add(r.completed_by[0])
        if r.extension_event:
            done.add(r.extension_event)
    out: list[tuple[str, frozenset[str]]] = [("open", frozenset(opened)), ("done", frozenset(done))]
    for unless in sorted({r.unless for r in rules if r.unless}):
        for kind, names in list(out[:2]):
            if names.intersection(unless):
                out.append((f"{kind}-without-{'-'.join(unless)}", names.difference(unless)))
    return out


def scenarios(area: Area, process: str) -> list[Scenario]:
    """Every scenario of one process: each named event set, in each season, one event a day."""
    order = event_order(area, process)
    out: list[Scenario] = []
    for season, first in SEASONS:
        now = datetime.combine(first + NOW_AFTER, NOW_TIME, tzinfo=LONDON)
        for kind, names in event_sets(area, process):
            chosen = [n for n in order if n in names]
            events = tuple(
                Event(n, datetime.combine(first + i * EVENT_GAP, EVENT_TIME, tzinfo=LONDON))
                for i, n in enumerate(chosen)
            )
            out.append(Scenario(f"{season}-{kind}", events, now))
    return out


def _second_wednesdays() -> tuple[date, ...]:
    year, month = SYNTHETIC_MEETINGS_FROM
    days: list[date] = []
    for _ in range(SYNTHETIC_MEETINGS_MONTHS):
        first = date(year, month, 1)
        days.append(first + timedelta(days=(2 - first.weekday()) % 7 + 7))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(days)


def with_meetings(area: Area) -> tuple[Area, dict[str, str]]:
    """The area with fixed dates for every meetings list a rule needs and the pack leaves empty."""
    needed = sorted({c.meetings for r in area.rules for c in r.candidates if c.meetings is not None})
    empty = [name for name in needed if not area.meetings.get(name)]
    if not empty:
        return area, {}
    meetings = dict(area.meetings)
    for name in empty:
        meetings[name] = _second_wednesdays()
    return replace(area, meetings=meetings), {name: SYNTHETIC_MEETINGS_NOTE for name in empty}


def snapshot(area: Area) -> dict[str, Any]:
    """The snapshot of one pack: per process and scenario, the events, ``now`` and each deadline's dates."""
    dated, synthetic = with_meetings(area)
    processes: dict[str, Any] = {}
    for process in dated.processes:
        per_scenario: dict[str, Any] = {}
        for sc in scenarios(dated, process):
            timeline = evaluate(dated, process, sc.events, sc.now)
            deadlines: dict[str, Any] = {}
            for d in timeline.deadlines:
                full = d.as_dict()
                deadlines[d.id] = {k: full[k] for k in FIELDS}
            per_scenario[sc.name] = {
                "now": to_local_iso(sc.now),
                "events": [f"{e.name}={to_local_iso(e.at)}" for e in sc.events],
                "deadlines": deadlines,
            }
        processes[process] = per_scenario
    return {
        "area": area.id,
        "generated_by": "make snapshots (tests/snapshots/generate.py); do not edit by hand",
        "holidays_version": version("holidays"),
        "synthetic_meetings": synthetic,
        "processes": processes,
    }


def render(snap: Mapping[str, Any]) -> str:
    """The file's exact text: sorted keys, two-space indent, a trailing newline (byte-stable)."""
    return json.dumps(snap, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def path_for(area_id: str) -> Path:
    return SNAPSHOT_DIR / f"{area_id}.json"


def flatten(snap: Mapping[str, Any]) -> list[str]:
    """One line per fact, each naming pack, process, scenario and deadline, so any diff line reads alone."""
    area = snap.get("area", "?")
    lines = [f"{area} / synthetic meetings: {k} = {v}" for k, v in sorted(snap.get("synthetic_meetings", {}).items())]
    for process, per_scenario in sorted(snap.get("processes", {}).items()):
        for name, sc in sorted(per_scenario.items()):
            where = f"{area} / {process} / {name}"
            lines.append(f"{where} / now: {sc['now']}")
            lines.extend(f"{where} / event: {e}" for e in sc["events"])
            for rule_id, d in sorted(sc["deadlines"].items()):
                for k in FIELDS:
                    if k == "skipped":
                        lines.extend(f"{where} / {rule_id} / skipped: {s['date']} {s['reason']}" for s in d[k])
                    else:
                        lines.append(f"{where} / {rule_id} / {k}: {d[k]}")
    return lines


def compare(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> str | None:
    """None when the dates agree; else a unified diff with the hint. The holidays version alone never fails."""

    def dates(s: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in s.items() if k not in ("holidays_version", "generated_by")}

    if dates(expected) == dates(actual):
        return None
    area = actual.get("area", expected.get("area", "?"))
    diff = difflib.unified_diff(
        flatten(expected), flatten(actual), f"tests/snapshots/{area}.json (committed)", f"{area} (now)", lineterm=""
    )
    made, now = expected.get("holidays_version"), actual.get("holidays_version")
    versions = f" (holidays {made} made the snapshot, {now} is installed: bank holidays may have moved)"
    head = f"timeline snapshot of pack {area!r} changed{versions if made != now else ''}:\n"
    return head + "\n".join(diff) + f"\n{HINT}"


def builtin_areas() -> dict[str, Area]:
    """The built-in packs only: no user directories or CPC_MEETINGS from the environment."""
    cat = load_catalogue()
    if cat.errors:
        raise SystemExit("packs do not load: " + "; ".join(str(e) for e in cat.errors))
    return cat.areas


def coverage(area: Area, snap: Mapping[str, Any]) -> str:
    """One line: how many of the pack's rules are started and dated in some scenario, and why not the rest."""
    started: set[str] = set()
    due: set[str] = set()
    for per_scenario in snap["processes"].values():
        for sc in per_scenario.values():
            for deadline_id, d in sc["deadlines"].items():
                rule_id = deadline_id.partition("#")[0]  # a repeating rule's occurrences: rule#1, rule#2
                if d["start"] is not None:
                    started.add(rule_id)
                if d["due"] is not None:
                    due.add(rule_id)
    why: list[str] = []
    for r in area.rules:
        if r.id not in due:
            reason = (
                "never started" if r.id not in started else "no number of days" if not r.candidates else "not dated"
            )
            why.append(f"{r.id} ({reason})")
    tail = f"; undated: {', '.join(why)}" if why else ""
    return f"{area.id}: {len(area.rules)} rules, {len(started)} started, {len(due)} dated{tail}"


def stale_files(area_ids: Iterable[str], directory: Path = SNAPSHOT_DIR) -> list[Path]:
    """Snapshot files whose pack no longer exists (a renamed pack must not leave its old dates behind)."""
    known = set(area_ids)
    return [p for p in sorted(directory.glob("*.json")) if p.stem not in known]


def write_all(areas: Mapping[str, Area], directory: Path = SNAPSHOT_DIR) -> list[str]:
    """Write every pack's file, remove files of packs that no longer exist, and return coverage lines."""
    report: list[str] = []
    for area_id in sorted(areas):
        snap = snapshot(areas[area_id])
        (directory / f"{area_id}.json").write_text(render(snap), encoding="utf-8")
        report.append(coverage(areas[area_id], snap))
    for stale in stale_files(areas, directory):
        stale.unlink()
        report.append(f"{stale.stem}: snapshot removed (no such pack)")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``make snapshots``: rewrite every file and print how many rules of each pack are dated."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.snapshots.generate",
        description="Rewrite tests/snapshots/<area>.json for every built-in pack.",
    )
    parser.add_argument("--dir", type=Path, default=SNAPSHOT_DIR, help="where to write (default: %(default)s)")
    args = parser.parse_args(argv)
    print("\n".join(write_all(builtin_areas(), args.dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
