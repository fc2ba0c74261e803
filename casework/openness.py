"""Whether a case still has work in it: the rule behind the store's open flag (issue 12).

Why a rule of its own: ``deadlines`` and the 06:30 replan read only open cases, so the rule must
never call a case closed while either would still list or plan something from it. It therefore
errs on the side of open. A case is open while any of its timelines (the ones ``deadlines`` looks
at: the case's processes, the family's complaint window before a complaint, each attendee's own
right to dissent) has an applicable deadline that is not a flag and is

- a duty still ``pending`` or ``missed`` (overdue work stays open until it is done, even late), or
- a right (a window) still ``pending``.

Only the passing of time can close a case without an event: a pending window becomes ``missed``
(closed, unused). Nothing reopens one without a change to its record (an event, a dissent, a
complaint, an attendee), and the store marks a case open again on every such change. So a case
judged closed stays closed until its record changes, and reading only open cases loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from casework.reminder_schedule import DeadlineView, TimelineView


def is_open_deadline(d: DeadlineView) -> bool:
    """A deadline someone may still have to act on: an open duty (even overdue) or a running right."""
    if not d.applicable or d.rule.kind == "flag":
        return False
    if d.rule.kind == "duty":
        return d.status in ("pending", "missed")
    return d.status == "pending"


def has_open_work(timelines: Iterable[TimelineView]) -> bool:
    """True while any deadline of these timelines is open (see :func:`is_open_deadline`)."""
    return any(is_open_deadline(d) for tl in timelines for d in tl.deadlines)
