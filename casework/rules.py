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
    # One deadline per occurrence of the start event (each review held gets its own decision letter
    # and record, London 8.16.5, 8.16.14); for a before-rule, ``since`` names the events after the
    # latest of which (before the anchor) a completing event counts, so the initial conference's
    # report does not meet the review's.
    each: bool = False
    since: tuple[str, ...] = ()
    # Events that make a window unnecessary when it was not used: the minutes received without a
    # request (Hampshire, 000 §3), so the general 28-day rule applies instead.
    satisfied_by: tuple[str, ...] = ()
    # Who may accept a window exercised late, and where the procedure says so (001 5.7.13); None
    # when the procedure gives nobody that discretion (001 5.7.23 at Stage 3).
    late_discretion: str | None = None
    late_source: str | None = None
    # The procedure expects an extension to be agreed before the original date (SI 2006/1738 regs
    # 14, 17): one recorded after it is said to have come late.
    extension_before_due: bool = False
    # The starting point used where the procedure names none, said out loud: always (``assumption``),
    # or when the clock was started by a particular event (``assume``: event -> why it was used), or
    # when an event is absent (``"!event"``: Hampshire's minutes received with no request, 000 §3).
    assumption: str | None = None
    assume: tuple[tuple[str, str], ...] = ()

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
