"""Checks of the events a person gives for one process, before its timeline is worked out.

:func:`casework.timeline.evaluate` takes any events of a case (a case's events serve every process),
so what would only mislead one person's question is refused here, by the caller that asks it (the
``cpc timeline`` command): an event no rule of the chosen process uses, a date with no time where the
time decides a deadline counted in hours (001 5.7.4: "within 72 hours of the conference meeting"), a
later occurrence of an event dated before the rule it completes has started (a reconvened conference
before the dissent was upheld, 001 5.7.7(4)), and discretion asked for a rule that is not a window
(000 §3; 001 5.7.4, 5.7.13: only a late exercise of a right is accepted at the chair's discretion).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from casework.clock import local_date, when_recorded
from casework.errors import (
    EventNotUsed,
    ReconvenedTooEarly,
    TimeOfDayNeeded,
    UnknownDiscretion,
    UnknownEvent,
)
from casework.events import MUST_FOLLOW, Event, check_order, index_events
from casework.packs import Area
from casework.rules import Rule


@dataclass(frozen=True, slots=True)
class Given:
    """An event as a person gave it, and whether they gave a time of day (a bare date is kept at the
    day's start: :func:`casework.clock.parse_given`)."""

    event: Event
    time_given: bool = True


def events_used(rules: Iterable[Rule]) -> frozenset[str]:
    """Every event a rule starts on, is completed by, applies only with, is cancelled by, is made
    unnecessary by, counts completions since, or is extended by."""
    used: set[str] = set()
    for r in rules:
        used.update(r.starts, r.completed_by, r.applies_if, r.unless, r.satisfied_by, r.since)
        if r.extension_event:
            used.add(r.extension_event)
    return frozenset(used)


def check_discretion(area: Area, process: str, rule_ids: Iterable[str]) -> None:
    """Discretion is recorded only for a window of this process: a duty is not a right exercised late."""
    rules = area.rules_for(process)
    windows = [r.id for r in rules if r.kind == "window"]
    for rid in rule_ids:
        if rid not in windows:
            raise UnknownDiscretion(rid, process, area.name, windows)


def check_event(area: Area, process: str, one: Given, given: Sequence[Given]) -> None:
    """One given event: known to the area, used by a rule of ``process``, and timed where it must be."""
    name = one.event.name
    if name not in area.events:
        raise UnknownEvent(name, area.id, sorted(area.events))
    rules = area.rules_for(process)
    if name not in events_used(rules):
        others = [p for p in area.processes if p != process and name in events_used(area.rules_for(p))]
        raise EventNotUsed(name, process, area.name, others)
    if not one.time_given:
        _check_time_of_day(area, rules, one, given)


def _check_time_of_day(area: Area, rules: Sequence[Rule], one: Given, given: Sequence[Given]) -> None:
    """A bare date is refused only where it starts a period in elapsed hours: 00:00 would shorten it.

    The event must be the one the candidate counts from (the first of its ``of`` list that is given,
    at the occurrence it uses); a bare date for a working-day rule stays accepted (a working-day
    period runs to the end of a day, whatever the start's time). Where the area reads hours as working
    days (``hours_mean_working_days``) the time does not matter either.
    """
    if area.hours_mean_working_days:
        return
    present = {g.event.name for g in given}
    name = one.event.name
    for rule in rules:
        for c in rule.candidates:
            units = {p.unit for p in (c.period, c.extended) if p is not None}
            if "hours" not in units or c.period is None:
                continue
            anchor = next((n for n in c.of if n in present), None)
            if anchor != name:
                continue
            times = sorted(g.event.at for g in given if g.event.name == name)
            if one.event.at != (times[-1] if c.occurrence == "last" else times[0]):
                continue
            period = c.period if c.period.unit == "hours" else c.extended
            assert period is not None
            day = local_date(one.event.at).isoformat()
            raise TimeOfDayNeeded(name, day, rule.id, period.text, c.source or rule.source)


def check_sequence(area: Area, process: str, given: Sequence[Given]) -> None:
    """The given events in an order that can have happened.

    :func:`casework.events.index_events` compares by date (a date with no time may fall on the same day
    as what it follows); where both times were given, the time decides as well (a birth at 08:00 is
    before a pre-birth conference at 10:00 the same day). Then a later occurrence of an event that
    completes a rule only once the rule has started, as the reconvened conference completes
    "dissent-reconvene" once the dissent is upheld (001 5.7.7(4)), must not be dated before that start.
    """
    events = [g.event for g in given]
    by_name = index_events(events, area.events, area.id)
    timed = {(g.event.name, g.event.at) for g in given if g.time_given}
    check_order(by_name, lambda name, at, before, other: (name, at) in timed and (before, other) in timed)
    for rule in area.rules_for(process):
        _check_repeat(rule, by_name)


def _ancestors(name: str) -> frozenset[str]:
    """Every event that must come before ``name``, directly or through another (MUST_FOLLOW's closure)."""
    seen: set[str] = set()
    todo = list(MUST_FOLLOW.get(name, ()))
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(MUST_FOLLOW.get(n, ()))
    return frozenset(seen)


def _check_repeat(rule: Rule, by_name: dict[str, list[datetime]]) -> None:
    """A rule completed by an event that comes before its own start (the reconvened conference: a
    ``conference_held`` completes "dissent-reconvene", which starts with ``dissent_upheld``, which follows
    the conference) is completed only by a later occurrence; that one must follow the start."""
    for done in rule.completed_by:
        times = by_name.get(done, [])
        if len(times) < 2 or not any(done in _ancestors(s) for s in rule.starts):
            continue
        start_name = next((s for s in rule.starts if s in by_name), None)
        original, later = when_recorded(times[0]), times[1:]
        if start_name is None:
            first_start = rule.starts[0]
            raise ReconvenedTooEarly(
                done,
                original,
                when_recorded(later[0]),
                rule.id,
                rule.title,
                first_start,
                "",
                rule.source,
                moment=later[0],
            )
        start = by_name[start_name][0]
        for t in later:
            # By time, as the timeline counts it (a completion before its start is not counted), so a
            # bare date on the day of the uphold is refused too: with its time it may be accepted.
            if t < start:
                raise ReconvenedTooEarly(
                    done,
                    original,
                    when_recorded(t),
                    rule.id,
                    rule.title,
                    start_name,
                    when_recorded(start),
                    rule.source,
                    moment=t,
                )
