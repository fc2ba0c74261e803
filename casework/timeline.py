"""Timelines: the rules of one case evaluated against its events.

Each deadline carries its due time, status and an explanation a complaints manager can defend to
the Ombudsman: the start, the rule and its citation, and every bank holiday or closure day skipped.
Statuses: ``waiting`` (not started, or not yet applicable), ``pending`` (running), ``met``,
``late`` (done after the due time; a late window is flagged, and the chair may accept it at
discretion) and ``missed`` (not done and past due).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from casework.citations import cite, cite_text, first_url, titles
from casework.clock import END_OF_DAY, LONDON, add_elapsed_hours, add_months, spoken_date, to_local_iso
from casework.events import Event, index_events
from casework.packs import Area
from casework.rules import Candidate, Rule

STATUSES: tuple[str, ...] = ("waiting", "pending", "met", "late", "missed")


@dataclass(frozen=True, slots=True)
class Dated:
    """One candidate dated: its start and due, or why it could not be dated."""

    candidate: Candidate
    start_event: str | None
    start: datetime | None
    due: datetime | None
    period_text: str
    reason: str = ""


@dataclass(slots=True)
class Deadline:
    rule: Rule
    due: datetime | None
    status: str
    dated: tuple[Dated, ...]
    chosen: Dated | None
    completed_at: datetime | None
    completed_event: str | None
    applicable: bool
    area: Area
    discretion: bool = False
    _explanation: str | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def explanation(self) -> str:
        if self._explanation is None:
            self._explanation = explain(self)
        return self._explanation

    def as_dict(self) -> dict[str, Any]:
        """The JSON form used by ``cpc timeline --json`` and the cards."""
        r = self.rule
        chosen = self.chosen
        skipped: list[dict[str, str]] = []
        if (
            chosen
            and chosen.start
            and chosen.due
            and chosen.candidate.period
            and chosen.candidate.direction != "next_meeting"
        ):
            cal = self.area.calendar
            skipped = [
                {"date": d.day.isoformat(), "reason": d.reason}
                for d in cal.skipped_between(
                    chosen.start.astimezone(LONDON).date(), chosen.due.astimezone(LONDON).date()
                )
            ]
        cited = cite(r.source, self.area)  # the document's name and address beside the machine-readable source
        return {
            "id": r.id,
            "title": r.title,
            "kind": r.kind,
            "due": to_local_iso(self.due) if self.due else None,
            "status": self.status,
            "responsible": r.responsible,
            "source": r.source,
            "source_title": titles(cited),
            "source_url": first_url(cited),
            "explanation": self.explanation,
            "start": to_local_iso(chosen.start) if chosen and chosen.start else None,
            "start_event": chosen.start_event if chosen else None,
            "completed": to_local_iso(self.completed_at) if self.completed_at else None,
            "completed_by": self.completed_event,
            "skipped": skipped,
            "note": r.note,
            "applies": self.applicable,
            "discretion_recorded": self.discretion,
        }


@dataclass(slots=True)
class Timeline:
    area: Area
    process: str
    deadlines: list[Deadline]
    now: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "area": self.area.id,
            "process": self.process,
            "timezone": "Europe/London",
            "deadlines": [d.as_dict() for d in self.deadlines],
        }

    def get(self, rule_id: str) -> Deadline:
        for d in self.deadlines:
            if d.rule.id == rule_id:
                return d
        raise KeyError(rule_id)


def _anchor(
    names: tuple[str, ...], occurrence: str, by_name: Mapping[str, list[datetime]]
) -> tuple[str | None, datetime | None]:
    """The first of ``names`` that has been recorded, at its first (or latest) occurrence."""
    for name in names:
        times = by_name.get(name)
        if times:
            return name, times[-1] if occurrence == "last" else times[0]
    return None, None


def _date(area: Area, c: Candidate, start: datetime, extended: bool) -> tuple[datetime | None, str, str]:
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


def _floor(c: Candidate, by_name: Mapping[str, list[datetime]], start: datetime) -> datetime | None:
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
    rule: Rule,
    by_name: Mapping[str, list[datetime]],
    threshold: datetime | None,
    anchors: set[tuple[str, datetime]],
) -> tuple[str | None, datetime | None]:
    best: tuple[str | None, datetime | None] = (None, None)
    for name in rule.completed_by:
        for t in by_name.get(name, ()):
            if threshold is not None and t < threshold:
                continue
            if (name, t) in anchors:
                continue
            if best[1] is None or t < best[1]:
                best = (name, t)
            break
    return best


def evaluate_rule(
    area: Area, rule: Rule, by_name: Mapping[str, list[datetime]], now: datetime, discretion: bool = False
) -> Deadline | None:
    """Date and classify one rule; None when an ``unless`` event makes it inapplicable."""
    for u in rule.unless:
        if u in by_name:
            return None
    applicable = True
    for a in rule.applies_if:
        if a not in by_name:
            applicable = False
            break
    candidates = rule.candidates
    for n in rule.starts:
        if n in by_name:
            break
    else:
        # Fast path: nothing has started the clock yet (``dated`` stays empty; see explain()).
        return Deadline(rule, None, "waiting", (), None, None, None, applicable, area)
    extended = rule.extension_event is not None and rule.extension_event in by_name
    dated: list[Dated] = []
    anchors: set[tuple[str, datetime]] = set()
    threshold: datetime | None = None
    chosen: Dated | None = None
    for c in candidates:
        name, start = _anchor(c.of, c.occurrence, by_name)
        if start is None or name is None:
            dated.append(Dated(c, None, None, None, c.period.text if c.period else "", "not started"))
            continue
        anchors.add((name, start))
        floor = _floor(c, by_name, start)
        if floor is not None and (threshold is None or floor < threshold):
            threshold = floor
        due, text, reason = _date(area, c, start, extended)
        item = Dated(c, name, start, due, text, reason)
        dated.append(item)
        if chosen is None or (due is not None and (chosen.due is None or due < chosen.due)):
            chosen = item
    if not candidates:
        name, start = _anchor(rule.starts_on, "first", by_name)
        assert name is not None and start is not None
        anchors.add((name, start))
        threshold = min(by_name[n][0] for n in rule.starts_on if n in by_name)
        chosen = Dated(Candidate("within", None, rule.starts_on), name, start, None, "", "")
    due = chosen.due if chosen else None
    done_event, done_at = _completion(rule, by_name, threshold, anchors)
    if done_at is not None:
        status = "met" if due is None or done_at <= due else "late"
    elif not applicable:
        status = "waiting"
    elif due is None:
        status = "pending"
    else:
        status = "pending" if now <= due else "missed"
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
        discretion and status == "late" and rule.kind == "window",
    )


def evaluate(
    area: Area,
    process: str,
    events: Iterable[Event],
    now: datetime,
    discretion: Iterable[str] = (),
) -> Timeline:
    """Every deadline of ``process`` in ``area`` for these events, as at ``now``.

    ``discretion`` names window rules whose late exercise the chair has accepted (000 §3;
    001 5.7.13); they stay ``late`` (the lateness is a fact) and carry ``discretion_recorded``.
    """
    rules = area.rules_for(process)
    by_name = index_events(events, area.events, area.id)
    accepted = frozenset(discretion)
    out: list[Deadline] = []
    for rule in rules:
        d = evaluate_rule(area, rule, by_name, now, rule.id in accepted)
        if d is not None:
            out.append(d)
    return Timeline(area, process, out, now)


def _fmt_time(t: datetime) -> str:
    local = t.astimezone(LONDON)
    return f"{spoken_date(local.date())} {local.strftime('%H:%M')} {local.tzname()}"


def explain(d: Deadline) -> str:
    """A sentence a chair could read aloud: start, rule, count, days skipped, citation, notes."""
    r = d.rule
    parts: list[str] = []
    if not r.candidates:
        parts.append(f"No number of days is set: {r.timescale}.")
        if d.chosen and d.chosen.start:
            parts.append(f"Started by {d.chosen.start_event} on {_fmt_time(d.chosen.start)}.")
        else:
            parts.append(f"Starts when {' or '.join(r.starts_on)} is recorded.")
    dated = d.dated or tuple(
        Dated(c, None, None, None, c.period.text if c.period else "", "not started") for c in r.candidates
    )
    for item in dated:
        c = item.candidate
        label = f"{'before' if c.direction == 'before' else 'within'} {item.period_text}"
        if c.direction == "next_meeting":
            label = f"by {item.period_text}"
        if item.start is None:
            parts.append(f"{label.capitalize()} of {' or '.join(c.of)}: not started, {' / '.join(c.of)} not recorded.")
            continue
        assert item.start_event is not None
        started = f"{item.start_event} ({_fmt_time(item.start)})"
        if c.direction == "next_meeting":
            text = f"By {item.period_text} after {started}"
        else:
            text = f"{label.capitalize()} of {started}"
        if item.due is None:
            parts.append(f"{text}: cannot be dated, {item.reason}.")
            continue
        if c.period and c.period.unit == "hours" and not d.area.hours_mean_working_days:
            text += f": {c.period.amount} elapsed hours, to {_fmt_time(item.due)}"
        else:
            text += f": to the end of {spoken_date(item.due.astimezone(LONDON).date())}"
            if c.period and c.period.unit in ("working_days", "hours"):
                text += ", the start day not counted, weekends skipped"
                skipped = d.area.calendar.skipped_between(
                    item.start.astimezone(LONDON).date(), item.due.astimezone(LONDON).date()
                )
                if skipped:
                    text += "; also skipped: " + ", ".join(f"{spoken_date(s.day)} ({s.reason})" for s in skipped)
        if c.extended and item.period_text == c.extended.text:
            text += " (extended period authorised)"
        if c.source:
            text += f" [{c.source}]"
        parts.append(text + ".")
    if len([x for x in d.dated if x.due]) > 1 and d.chosen:
        parts.append(f"The sooner date applies: {_fmt_time(d.chosen.due)}." if d.chosen.due else "")
    if not d.applicable:
        parts.append(f"Applies only once {' and '.join(r.applies_if)} is recorded.")
    if d.completed_at is not None:
        parts.append(
            f"Done: {d.completed_event} on {_fmt_time(d.completed_at)}" + (" (late)." if d.status == "late" else ".")
        )
        if d.status == "late" and r.kind == "window":
            parts.append(
                "Exercised after the window closed: accepted at the chair's recorded discretion."
                if d.discretion
                else "Exercised after the window closed: needs the chair's recorded discretion."
            )
    parts.append(f"Source: {cite_text(r.source, d.area)}.")
    if r.note:
        parts.append(f"Note: {r.note}")
    return " ".join(p for p in parts if p)


def soonest_first(deadlines: Sequence[Deadline]) -> list[Deadline]:
    """Open deadlines by due time, undated last: the order a responsible person should see them."""
    far = datetime.max.replace(tzinfo=LONDON)
    return sorted(deadlines, key=lambda d: d.due or far)


AMBER_WORKING_DAYS = 2


def rag(d: Deadline, now: datetime) -> str:
    """Red / amber / green for a chair scanning a card: ``red`` missed or late, ``amber`` open and due
    within two working days (or today), ``green`` met or comfortably open, ``grey`` not started."""
    if d.status in ("missed", "late"):
        return "red"
    if d.status == "met":
        return "green"
    if d.status == "waiting" or d.due is None:
        return "grey"
    today = now.astimezone(LONDON).date()
    due_day = d.due.astimezone(LONDON).date()
    if due_day <= today:
        return "amber"
    horizon = d.area.calendar.add_working_days(today, AMBER_WORKING_DAYS)
    return "amber" if due_day <= horizon else "green"
