"""Rules that repeat: one deadline for each occurrence of the event that starts them.

London 8.16.3, 8.16.5, 8.16.14 and 8.11.1 apply to review conferences as well as initial ones, and
8.6.13 says exclusion at one conference is not reason enough for exclusion at further ones: so each
review held gets its own decision letter, record and circulation, and each review set its own
representation deadline. Each occurrence is dated as if it were the only one, and each completing
event is used once, by the earliest occurrence that it can meet.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from casework.areas import Area
from casework.clock import LONDON, spoken_date
from casework.dating import evaluate_rule
from casework.deadline import Deadline
from casework.event_titles import event_phrase
from casework.rules import Rule

# How an occurrence is named in its deadline's title: "(the review conference of Mon 1 Mar 2027)".
_LABELS = {
    "review_held": "review conference of",
    "review_scheduled": "review conference set for",
    "record_received": "record received on",
}


def _occurrences(rule: Rule, by_name: Mapping[str, list[datetime]]) -> list[tuple[str, datetime]]:
    names = rule.candidates[0].of
    return sorted(((n, t) for n in names for t in by_name.get(n, ())), key=lambda x: x[1])


def _lower_bound(
    rule: Rule, k: int, occurrences: list[tuple[str, datetime]], by_name: Mapping[str, list[datetime]]
) -> datetime | None:
    """From when a completing event counts for occurrence ``k``: its own start for a within-rule; for
    a before-rule, the previous occurrence, or the latest ``since`` event before the first."""
    t = occurrences[k][1]
    if rule.candidates[0].direction != "before":
        return t
    if k > 0:
        return occurrences[k - 1][1]
    # By date: the review held on the day it was set for is that review, not an earlier one.
    day = t.astimezone(LONDON).date()
    earlier = [x for n in rule.since for x in by_name.get(n, ()) if x.astimezone(LONDON).date() < day]
    return max(earlier) if earlier else None


def evaluate_each(
    area: Area, rule: Rule, by_name: Mapping[str, list[datetime]], now: datetime, discretion: bool = False
) -> list[Deadline]:
    """One deadline per occurrence, ids ``rule#1``, ``rule#2``...; one waiting deadline before any."""
    occurrences = _occurrences(rule, by_name)
    if not occurrences:
        d = evaluate_rule(area, rule, by_name, now, discretion)
        return [d] if d is not None else []
    used: set[tuple[str, datetime]] = set()
    out: list[Deadline] = []
    for k, (name, t) in enumerate(occurrences):
        lower = _lower_bound(rule, k, occurrences, by_name)
        view = dict(by_name)
        for n in rule.candidates[0].of:
            view.pop(n, None)
        view[name] = [t]
        for n in rule.completed_by:
            view[n] = [x for x in by_name.get(n, ()) if (lower is None or x >= lower) and (n, x) not in used]
        d = evaluate_rule(area, rule, view, now, discretion)
        if d is None:
            continue
        if d.completed_event and d.completed_at and not d.satisfied:
            used.add((d.completed_event, d.completed_at))
        d.occurrence = k + 1
        noun = _LABELS.get(name, event_phrase(name).removeprefix("the ") + " of")
        d.label = f"{noun} {spoken_date(t.astimezone(LONDON).date())}"
        out.append(d)
    return out
