"""Whose duty is it, and how is it marked done (issue 9 item 7).

A **duty** is what staff must do by a date (ARCHITECTURE: Domain vocabulary): it is listed in the
responsible person's ``deadlines``, reminded and escalated. A **window** is someone's right (the
family's to complain, a professional's to dissent, a complainant's to ask for the next stage): it
is never the chair's overdue work. It is shown, while it is open, as "open for the family until ...",
and to the professional whose right it is as "yours until ...".

Every duty can be marked done by the event that completes it. What the person does for that is the
rule's *purpose*, decided here so that no card matches event names:

- ``decide``: the reviewing manager's decision on a dissent (001 5.7.7(3)): its decision card;
- ``record``: the chair records a dissent (001 5.7.7(2)): the chair's prompt;
- ``step``: a complaint step of the area's lifecycle: the step form, which checks the order;
- ``dissent``: a window for dissent: the dissent form;
- ``done``: anything else: "Mark done" records the completing event now;
- ``none``: nothing a person does: a window of the family's, or a flag (how long a conference lasted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from casework.packs import Area
from casework.rules import Rule

Purpose = Literal["decide", "record", "step", "dissent", "done", "none"]

DECISIONS = frozenset({"dissent_upheld", "dissent_not_upheld"})


def purpose(area: Area, rule: Rule) -> Purpose:
    """What completes this rule, as an action a person can take (see the module docstring)."""
    done_by = set(rule.completed_by)
    if rule.kind == "flag":
        return "none"
    if rule.kind == "window":
        return "dissent" if "dissent_raised" in done_by else "none"
    if done_by & DECISIONS:
        return "decide"
    if "dissent_recorded" in done_by:
        return "record"
    if done_by & area.complaint_lifecycle.events:
        return "step"
    return "done" if rule.completed_by else "none"


def completing_event(area: Area, rule: Rule) -> str | None:
    """The event "Mark done" records for a ``done`` duty: its first completing event."""
    return rule.completed_by[0] if purpose(area, rule) == "done" else None


@dataclass(frozen=True)
class RightHolder:
    """Whose right a window is, in words for a card."""

    label: str  # "you", "the family"
    own: bool  # the person asking holds it


def right_holder(rule: Rule, person_is_attendee: bool) -> RightHolder | None:
    """A window's holder as the asking person sees it, or None when it is nothing of theirs to see.

    A professional's window (dissent, 001 5.7.4; representations, 004 8.6.3) is shown to the attendees
    whose right it is; a family's or complainant's window (complaint, Stage 2 or 3 request) is shown to
    the staff who receive what it brings (its ``responsible`` role).
    """
    if rule.responsible == "professional":
        return RightHolder("you", True) if person_is_attendee else None
    return RightHolder("the family", False)
