"""The complaint lifecycle: which step may be recorded now, from the area's seed.

A complaint by a child or family moves from receipt through Stage 1 (with the conference chair), a
second stage and, in some areas, a panel, to its outcome (000 §2; 001 5.7.10; 002 1d; 004 8.17.4:
reconvene under a different chair, bring the review forward, or confirm the decision). Each area's
pack lists which step may follow which (:mod:`casework.lifecycle.spec`); this module only reads it.

The state is the last complaint step recorded: a step is valid when one of the area's transitions for
it follows that step and it has not been recorded as many times as the transition allows (once,
unless a seed allows a repeat: 001 5.7.39, 000 §5, 004 8.17.10). Nothing is valid after ``closed``.
Other events of the case (the conference, minutes, an agreed extension) are ignored here.

A wrong step is never edited: a correction withdraws it (ARCHITECTURE: Writing), and only when no
step recorded after it depends on it; :func:`check_complaint_withdrawal` names the one to withdraw
first. Everything here is pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from casework.citations import cite_text
from casework.lifecycle import StepNotValid
from casework.lifecycle.spec import CLOSED, ComplaintLifecycle, Step, Transition
from casework.packs import Area


def _history(lc: ComplaintLifecycle, recorded: Sequence[str]) -> list[str]:
    """The complaint steps among the case's recorded event names, in order."""
    events = lc.events
    return [e for e in recorded if e in events]


def _open(lc: ComplaintLifecycle, history: Sequence[str]) -> list[Transition]:
    """The transitions valid after ``history``: one per event, the first the pack lists."""
    if history and history[-1] == CLOSED:
        return []
    last = history[-1] if history else None
    counts = Counter(history)
    out: list[Transition] = []
    for t in lc.transitions:
        if any(o.event == t.event for o in out):
            continue
        follows = not t.after if last is None else last in t.after
        if follows and counts[t.event] < t.times:
            out.append(t)
    return out


def _reachable(lc: ComplaintLifecycle, history: Sequence[str]) -> set[str]:
    """Every step that could still come, by any route, from the last step recorded."""
    frontier = {t.event for t in _open(lc, history)}
    reached = set(frontier)
    while frontier:
        frontier = {t.event for t in lc.transitions if t.event not in reached and any(a in frontier for a in t.after)}
        reached |= frontier
    return reached


def _next_words(area: Area, steps: Sequence[Step]) -> str:
    if not steps:
        return "nothing more can be recorded"
    parts = [f"{s.title} ({cite_text(s.source, area)})" for s in steps]
    if len(parts) == 1:
        return f"the next step is {parts[0]}"
    return "the next step is one of: " + "; ".join(parts)


def _not_offered(area: Area, event: str) -> StepNotValid:
    lc = area.complaint_lifecycle
    why = f" {lc.note}" if lc.note else ""
    return StepNotValid(
        f"{lc.title_of(event)} cannot be recorded: {area.name} has no complaints process for children and "
        f"families ({cite_text(lc.source, area)}).{cite_text(why, area)}",
        event,
    )


def complaint_steps(area: Area, recorded: Sequence[str]) -> tuple[Step, ...]:
    """The complaint steps that may be recorded now, given the case's event names in recorded order.

    Each :class:`~casework.lifecycle.spec.Step` carries its plain-English title and the citation of
    the paragraph that allows it now (a skip or a repeat cites its own paragraph).
    """
    lc = area.complaint_lifecycle
    return tuple(t.step for t in _open(lc, _history(lc, recorded)))


def check_complaint_step(area: Area, recorded: Sequence[str], event: str) -> None:
    """Refuse (:class:`StepNotValid`) a complaint step that is not valid now, naming the next step(s).

    For example, in Pan-Sussex after a complaint is received: "Stage 2 letter received cannot be
    recorded yet: the next step is Stage 1 meeting held (Pan-Sussex Child Protection and Safeguarding
    Procedures, 5.7.14)": procedures are cited by name (casework.citations), never by file.
    """
    lc = area.complaint_lifecycle
    if not lc.offered:
        raise _not_offered(area, event)
    history = _history(lc, recorded)
    valid = _open(lc, history)
    if any(t.event == event for t in valid):
        return
    steps = tuple(t.step for t in valid)
    allowed = tuple(s.event for s in steps)
    title = lc.title_of(event)
    if history and history[-1] == CLOSED:
        message = (
            f"{title} cannot be recorded: the complaint is closed with its outcome "
            f"({cite_text(lc.source_of(CLOSED), area)}) and "
            "nothing follows it; if the closure was recorded in error, withdraw it by a correction"
        )
        raise StepNotValid(message, event, allowed)
    if event not in lc.events:
        message = f"{title} is not a step of the complaints procedure in {area.name} ({cite_text(lc.source, area)}); "
    elif event in history:
        message = f"{title} is already recorded; "
    elif event in _reachable(lc, history):
        message = f"{title} cannot be recorded yet: "
    else:
        message = f"{title} cannot be recorded now: the complaint has gone on without it; "
    raise StepNotValid(message + _next_words(area, steps), event, allowed)


def check_complaint_withdrawal(area: Area, recorded: Sequence[str], event: str) -> None:
    """Refuse (:class:`StepNotValid`) a correction withdrawing ``event`` (its latest recording) when a
    complaint step recorded after it depends on it: that step is named, to be withdrawn first.

    A later step depends on the withdrawn one when, without it, the later step would not have been
    valid where it was recorded (a Stage 1 response needs its Stage 1 meeting, 001 5.7.16).
    """
    lc = area.complaint_lifecycle
    history = _history(lc, recorded)
    title = lc.title_of(event)
    if event not in history:
        raise StepNotValid(f"{title} is not recorded for this complaint, so there is nothing to withdraw", event)
    at = len(history) - 1 - history[::-1].index(event)
    kept = history[:at]
    for j in range(at + 1, len(history)):
        later = history[j]
        if not any(t.event == later for t in _open(lc, kept)):
            route = next((t for t in _open(lc, history[:j]) if t.event == later), None)
            cited = f" ({cite_text(route.source, area)})" if route else ""
            later_title = lc.title_of(later)
            raise StepNotValid(
                f"{title} cannot be withdrawn: {later_title}, recorded after it, depends on it{cited}; "
                f"withdraw {later_title} first",
                event,
                depends=later,
            )
        kept.append(later)


__all__ = ["Step", "check_complaint_step", "check_complaint_withdrawal", "complaint_steps"]
