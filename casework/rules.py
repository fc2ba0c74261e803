"""Rules: what a procedure requires, by when, of whom, and where it says so.

A **window** is a right that expires (a dissent within 72 hours): lateness is flagged, never refused,
and the chair may record discretion to accept. A **duty** is what staff must do by a date: it gets
reminders and escalates when overdue (ARCHITECTURE: Domain vocabulary). A **flag** is a limit the
procedure sets on how long something takes (an initial conference of no more than two hours, 004
8.9.10): it is judged once its end is recorded and shown when exceeded; it is nobody's duty, gets no
reminders and is never overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from casework.periods import Period

Kind = Literal["window", "duty", "flag"]
Direction = Literal["within", "before", "next_meeting"]
Occurrence = Literal["first", "last"]
KINDS: tuple[str, ...] = ("window", "duty", "flag")
PROCESSES: tuple[str, ...] = ("conference", "dissent", "complaint")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way of dating the deadline. A rule with several takes the soonest that can be dated.

    ``extended`` replaces ``period`` once the rule's extension event is recorded (an authorised
    extension, e.g. SI 2006/1738 Stage 1: 10 working days extendable to 20).
    """

    direction: Direction
    period: Period | None
    of: tuple[str, ...]
    occurrence: Occurrence = "first"
    extended: Period | None = None
    meetings: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    process: str
    kind: Kind
    title: str
    candidates: tuple[Candidate, ...]
    completed_by: tuple[str, ...]
    responsible: str
    source: str
    starts_on: tuple[str, ...] = ()
    timescale: str | None = None
    note: str | None = None
    applies_if: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    extension_event: str | None = None

    @property
    def has_timescale(self) -> bool:
        """False for the steps the seeds give no number for (London 8.13, Oxfordshire's criteria)."""
        return bool(self.candidates)

    starts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names: list[str] = list(self.starts_on)
        for c in self.candidates:
            names.extend(c.of)
        object.__setattr__(self, "starts", tuple(dict.fromkeys(names)))

    def start_events(self) -> tuple[str, ...]:
        """Every event that can start the clock, for validation and for the bot's prompts."""
        return self.starts
