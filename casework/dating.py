"""Dating one rule against a case's events: start, due, completion and status.

A rule may give two limits ("whichever is sooner", London 8.14.12; Pan-Sussex 5.7.21 and 5.7.23).
For a duty the sooner applies: staff must meet both. For a window, which is someone's right, the
later applies: the person may rely on either promise, and the explanation shows both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from casework.areas import Area
from casework.clock import END_OF_DAY, LONDON, add_elapsed_hours, add_elapsed_minutes, add_months
from casework.deadline import Dated, Deadline, Extension
from casework.events import ends_meeting
from casework.rules import Candidate, Rule

Index = Mapping[str, list[datetime]]


def _anchor(names: tuple[str, ...], occurrence: str, by_name: Index) -> tuple[str | None, datetime | None]:
    """The first of ``names`` that has been recorded, at its first (or latest) occurrence."""
    for name in names:
        times = by_name.get(name)
        if times:
            return name, times[-1] if occurrence == "last" else times[0]
    return None, None


def date_candidate(area: Area, c: Candidate, start: datetime, extended: bool) -> tuple[datetime | None, str, str]:
    """Due time for one candidate: (due, period text, reason when it cannot be dated)."""
    if c.direction == "next_meeting":
        assert c.meetings is not None
        local = start.astimezone(LONDON).date()
        for m in area.meetings.get(c.meetings, ()):
            if m > local:
                return datetime.combine(m, END_OF_DAY, tzinfo=LONDON), f"the next {c.meetings} meeting", ""
        return (
            None,
            f"the next {c.meetings} meeting",
            f"no {c.meetings} meeting is configured after {local.isoformat()}",
        )
    period = c.extended if (extended and c.extended) else c.period
    assert period is not None
    unit, n = period.unit, period.amount
    if unit == "minutes":
        return add_elapsed_minutes(start, n), period.text, ""
    if unit == "hours":
        if not area.hours_mean_working_days:
            return add_elapsed_hours(start, n), period.text, ""
        unit, n = "working_days", max(1, -(-n // 24))
    local = start.astimezone(LONDON).date()
    sign = -1 if c.direction == "before" else 1
    if unit == "working_days":
        cal = area.calendar
        d = cal.subtract_working_days(local, n) if sign < 0 else cal.add_working_days(local, n)
    elif unit == "days":
        d = local + timedelta(days=sign * n)
    elif unit == "weeks":
        d = local + timedelta(days=sign * 7 * n)
    else:
        d = add_months(local, sign * n)
    return datetime.combine(d, END_OF_DAY, tzinfo=LONDON), period.text, ""


def _floor(c: Candidate, by_name: Index, start: datetime) -> datetime | None:
    """Earliest moment a completing event counts for this candidate.

    Before-rules are met before their anchor (a pre-birth conference before the due date), so they
    have no floor. A rule that restarts on the latest occurrence (later reviews) counts only what
    follows it. Otherwise anything from the earliest starting event on counts: a dissent typed in
    the meeting chat during the conference is within a window that runs from the conference's end.
    """
    if c.direction == "before":
        return None
    if c.occurrence == "last":
        return start
    firsts = [by_name[n][0] for n in c.of if n in by_name]
    return min(firsts) if firsts else start


def _completion(
    names: tuple[str, ...], by_name: Index, threshold: datetime | None, anchors: set[tuple[str, datetime]]
) -> tuple[str | None, datetime | None]:
    best: tuple[str | None, datetime | None] = (None, None)
    for name in names:
        for t in by_name.get(name, ()):
            if threshold is not None and t < threshold:
                continue
            if (name, t) in anchors:
                continue
            if best[1] is None or t < best[1]:
                best = (name, t)
            break
    return best


def _choose(rule: Rule, dated: list[Dated]) -> tuple[Dated | None, str | None]:
    """The limit that applies, and which rule of two chose it: sooner for a duty, later for a right."""
    with_due = [x for x in dated if x.due is not None]
    if not dated:
        return None, None
    if not with_due:
        return next((x for x in dated if x.start is not None), None), None
    if len(with_due) == 1:
        return with_due[0], None
    if rule.kind == "window":
        return max(with_due, key=lambda x: x.due or datetime.min.replace(tzinfo=LONDON)), "later"
    return min(with_due, key=lambda x: x.due or datetime.max.replace(tzinfo=LONDON)), "sooner"


def _date_all(
    area: Area, rule: Rule, by_name: Index, extended: bool
) -> tuple[list[Dated], set[tuple[str, datetime]], datetime | None]:
    dated: list[Dated] = []
    anchors: set[tuple[str, datetime]] = set()
    threshold: datetime | None = None
    for c in rule.candidates:
        name, start = _anchor(c.of, c.occurrence, by_name)
        if start is None or name is None:
            dated.append(Dated(c, None, None, None, c.period.text if c.period else "", "not started"))
            continue
        anchors.add((name, start))
        floor = _floor(c, by_name, start)
        if floor is not None and (threshold is None or floor < threshold):
            threshold = floor
        due, text, reason = date_candidate(area, c, start, extended)
        dated.append(Dated(c, name, start, due, text, reason))
    return dated, anchors, threshold


def _status(due: datetime | None, done_at: datetime | None, applicable: bool, now: datetime) -> str:
    if done_at is not None:
        return "met" if due is None or done_at <= due else "late"
    if not applicable:
        return "waiting"
    if due is None:
        return "pending"
    return "pending" if now <= due else "missed"


def evaluate_rule(area: Area, rule: Rule, by_name: Index, now: datetime, discretion: bool = False) -> Deadline | None:
    """Date and classify one rule; None when an ``unless`` event makes it inapplicable."""
    for u in rule.unless:
        if u in by_name:
            return None
    applicable = all(a in by_name for a in rule.applies_if)
    if not any(n in by_name for n in rule.starts):
        # Fast path: nothing has started the clock yet (``dated`` stays empty; see explain()).
        return Deadline(rule, None, "waiting", (), None, None, None, applicable, area)
    ext_times = by_name.get(rule.extension_event, []) if rule.extension_event else []
    dated, anchors, threshold = _date_all(area, rule, by_name, bool(ext_times))
    chosen, limits = _choose(rule, dated)
    if not rule.candidates:
        name, start = _anchor(rule.starts_on, "first", by_name)
        assert name is not None and start is not None
        anchors.add((name, start))
        threshold = min(by_name[n][0] for n in rule.starts_on if n in by_name)
        chosen = Dated(Candidate("within", None, rule.starts_on), name, start, None, "", "")
    due = chosen.due if chosen else None
    done_event, done_at = _completion(rule.completed_by, by_name, threshold, anchors)
    if rule.kind == "flag" and done_at and chosen and not ends_meeting(done_event, done_at, chosen.start, by_name):
        done_event, done_at = None, None  # the end of a later meeting: this one's end is not recorded
    satisfied = False
    if done_at is None and rule.satisfied_by:
        done_event, done_at = _completion(rule.satisfied_by, by_name, threshold, anchors)
        satisfied = done_at is not None
    status = "met" if satisfied else _status(due, done_at, applicable and rule.kind != "flag", now)
    extension = None
    if ext_times:
        plain, _, _ = _date_all(area, rule, by_name, False)
        original = _choose(rule, plain)[0]
        original_due = original.due if original else None
        recorded = ext_times[0]
        after = original_due is not None and recorded > original_due
        original_status = None
        if after:
            assert original_due is not None
            original_status = "met" if done_at is not None and done_at <= original_due else "missed"
        extension = Extension(recorded, original_due, original_status, after and rule.extension_before_due)
    assumptions = [rule.assumption] if rule.assumption else []
    start_event = chosen.start_event if chosen else None
    for name, why in rule.assume:
        absent = name.startswith("!") and name[1:] not in by_name
        if absent or name == start_event:
            assumptions.append(why)
    return Deadline(
        rule,
        due,
        status,
        tuple(dated),
        chosen,
        done_at,
        done_event,
        applicable,
        area,
        discretion and status == "late" and rule.kind == "window" and rule.late_discretion is not None,
        limits=limits,
        extension=extension,
        satisfied=satisfied,
        assumptions=tuple(assumptions),
    )
