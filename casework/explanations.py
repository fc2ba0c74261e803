"""Explanations a complaints manager can read aloud to the Ombudsman.

Each says where the clock started (the event in words, and its time), the rule and its citation,
how the count ran (the start day not counted, weekends and every bank holiday skipped, by name; a
month-end clamp spelt out), which of two limits applies and why, what was assumed where the
procedure names no starting point, what an extension changed, and what met the deadline.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from casework.citations import cite_text
from casework.clock import LONDON, spoken_date
from casework.event_titles import either, event_phrase, event_title

if TYPE_CHECKING:
    from casework.deadline import Dated, Deadline

ROLE_WORDS = {
    "professional": "the professional",
    "chair": "the chair",
    "line_manager": "the line manager",
    "head_of_safeguarding": "the reviewing manager",
    "complaints_manager": "the complaints manager",
    "service_manager_qa": "the Service Manager for Quality Assurance",
    "admin": "an administrator",
}


def fmt_time(t: datetime) -> str:
    local = t.astimezone(LONDON)
    return f"{spoken_date(local.date())} {local.strftime('%H:%M')} {local.tzname()}"


def cite(d: Deadline, source: str) -> str:
    """A citation as the reader should see it: the document's name and paragraph, never a file name."""
    return cite_text(source, d.area)


def _holder(d: Deadline) -> str:
    """Whose right a window is, in words."""
    if d.rule.responsible == "professional":
        return "the professional's"
    return "the complainant's" if d.rule.process == "complaint" else "the family's"


def _no_days(timescale: str | None) -> str:
    words = (timescale or "").strip()
    if "no number of days" in words:
        rest = words.replace("(no number of days is set)", "").replace("no number of days is set", "").strip()
        return "The procedure sets no number of days" + (f"; it says: {rest}." if rest else ".")
    return (
        f"The procedure sets no number of days; it says: {words}." if words else "The procedure sets no number of days."
    )


def _clamp(start: date, due: date, months: int) -> str:
    """ "30 Nov + 3 months: there is no 30 Feb, so the last day of February, Tue 29 Feb 2028"."""
    if due.day == start.day or due.month == start.month:
        return ""
    return (
        f"{start.day} {start:%b} + {months} month{'s' if months != 1 else ''}: there is no {start.day} {due:%b}, "
        f"so the last day of {due:%B}, {spoken_date(due)}"
    )


def _counted(d: Deadline, item: Dated) -> str:
    """How the count ran from start to due, for one dated limit."""
    c = item.candidate
    assert item.start is not None and item.due is not None
    start_day = item.start.astimezone(LONDON).date()
    due_day = item.due.astimezone(LONDON).date()
    period = c.extended if (c.extended and item.period_text == c.extended.text) else c.period
    if period and period.unit == "hours" and not d.area.hours_mean_working_days:
        return f": {period.amount} elapsed hours, to {fmt_time(item.due)}"
    if period and period.unit == "minutes":
        return f": {period.text} elapsed, to {fmt_time(item.due)}"
    text = f": by the end of {spoken_date(due_day)}"
    if c.direction == "next_meeting":
        return text
    if period and period.unit in ("working_days", "hours"):
        if period.unit == "hours":
            text += f" ({period.amount} hours read as working days in this area)"
        text += ", the start day not counted, weekends skipped"
        skipped = d.area.calendar.skipped_between(start_day, due_day)
        if skipped:
            text += "; also skipped: " + ", ".join(f"{spoken_date(s.day)} ({s.reason})" for s in skipped)
        return text
    if period and period.unit == "months":
        clamp = _clamp(start_day, due_day, period.amount)
        if clamp:
            text += f" ({clamp})"
    reason = d.area.calendar.reason(due_day)
    if reason:
        text += (
            f". {spoken_date(due_day)} is not a working day ({reason}); the procedure counts calendar days, "
            "so the date stands"
        )
    return text


def _head(item: Dated, anchor: str) -> str:
    """ "Within 10 working days of <anchor>", "At least 3 working days before <anchor>", "By the next..."."""
    c = item.candidate
    if c.direction == "next_meeting":
        return f"By the next {c.meetings} meeting after {anchor}"
    extended = " (the extended period)" if c.extended and item.period_text == c.extended.text else ""
    if c.direction == "before":
        return f"At least {item.period_text}{extended} before {anchor}"
    return f"Within {item.period_text}{extended} of {anchor}"


def _limit(d: Deadline, item: Dated) -> str:
    c = item.candidate
    if item.start is None:
        head = _head(item, either(c.of))
        return f"{head}: not started until {'it is' if len(c.of) == 1 else 'one of them is'} recorded."
    assert item.start_event is not None
    text = _head(item, f"{event_phrase(item.start_event)} ({fmt_time(item.start)})")
    if item.due is None:
        return f"{text}: cannot be dated, as {item.reason}."
    text += _counted(d, item)
    if c.source:
        text += f" [{cite(d, c.source)}]"
    return text + "."


def _extension(d: Deadline) -> list[str]:
    ext = d.extension
    if ext is None or d.rule.extension_event is None:
        return []
    parts = [f"Extended: {event_title(d.rule.extension_event)} recorded on {fmt_time(ext.recorded_at)}."]
    if ext.original_due is not None:
        when = spoken_date(ext.original_due.astimezone(LONDON).date())
        if ext.original_status == "missed":
            parts.append(f"The original date, the end of {when}, had passed unmet before then: it stays missed.")
        elif ext.original_status is None:
            parts.append(f"The extension was recorded before the original date, the end of {when}.")
    if ext.late:
        parts.append("The procedure expects an extension to be agreed before the original date, so it came late.")
    return parts


def _done(d: Deadline) -> list[str]:
    if d.completed_at is None or d.completed_event is None:
        return []
    title = event_title(d.completed_event)
    if d.satisfied:
        return [
            f"Not needed: {event_phrase(d.completed_event)} on {fmt_time(d.completed_at)} came without "
            f"{event_phrase(d.rule.completed_by[0])}."
        ]
    r = d.rule
    if r.kind == "flag":
        over = d.status == "late"
        return [
            f"{title}, {fmt_time(d.completed_at)}: " + ("over the limit, flagged." if over else "within the limit.")
        ]
    parts = [f"Done: {title}, {fmt_time(d.completed_at)}" + (" (late)." if d.status == "late" else ".")]
    if d.status == "late" and r.kind == "window":
        if r.late_discretion is None:
            parts.append("Exercised after the window closed; the procedure gives no one discretion to accept it late.")
        else:
            who = ROLE_WORDS.get(r.late_discretion, r.late_discretion)
            where = f" ({cite(d, r.late_source)})" if r.late_source else ""
            parts.append(
                f"Exercised after the window closed: accepted at {who}'s recorded discretion{where}."
                if d.discretion
                else f"Exercised after the window closed: it needs {who}'s recorded discretion{where}."
            )
    return parts


def explain(d: Deadline) -> str:
    """A sentence a chair could read aloud: start, rule, count, days skipped, citation, notes."""
    r = d.rule
    parts: list[str] = []
    if d.label:
        parts.append(f"For the {d.label}.")
    if not r.candidates:
        parts.append(_no_days(r.timescale))
        if d.chosen and d.chosen.start and d.chosen.start_event:
            parts.append(f"Started by {event_phrase(d.chosen.start_event)} on {fmt_time(d.chosen.start)}.")
        else:
            parts.append(f"Starts with {either(r.starts_on)}, not yet recorded.")
    from casework.deadline import Dated  # the dataclass, at call time (it imports this module)

    dated = d.dated or tuple(
        Dated(c, None, None, None, c.period.text if c.period else "", "not started") for c in r.candidates
    )
    parts.extend(_limit(d, item) for item in dated)
    parts.extend(f"Assumed: {why}" for why in d.assumptions)
    if d.limits and d.chosen and d.chosen.due:
        if d.limits == "sooner":
            parts.append(f"This is a duty, so the sooner of the two dates applies: {fmt_time(d.chosen.due)}.")
        else:
            parts.append(
                f"This is {_holder(d)} right, so it lasts until the later of the two dates: {fmt_time(d.chosen.due)}."
            )
    parts.extend(_extension(d))
    if not d.applicable:
        parts.append("Applies only once " + " and ".join(f'"{event_title(a)}" is recorded' for a in r.applies_if) + ".")
    parts.extend(_done(d))
    parts.append(f"Source: {cite(d, r.source)}.")
    if r.note:
        parts.append(f"Note: {cite_text(r.note, d.area)}")
    return " ".join(p for p in parts if p)
