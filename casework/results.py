"""What the casework commands and queries return to the edges (the bot, the command line)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from casework.packs import Area
from casework.records import (
    CaseEvent,
    Complaint,
    Conference,
    Dissent,
    Notice,
)
from casework.timeline import Deadline, Timeline


@dataclass(frozen=True)
class DissentRaised:
    dissent: Dissent
    conference: Conference
    window_due: datetime | None
    notices: tuple[Notice, ...]
    # True when this answers a repeat of a dissent already recorded: nothing new was stored.
    repeated: bool = False
    # The case as it stands after the dissent, drawn once in the command (None for a repeat: draw it anew).
    view: CaseView | None = None


@dataclass(frozen=True)
class Changed:
    """A state change made (or, with ``repeated``, found already made: nothing changed)."""

    reference: str
    summary: str
    notices: tuple[Notice, ...] = ()
    dissent: Dissent | None = None
    repeated: bool = False


@dataclass(frozen=True)
class CaseView:
    conference: Conference
    area: Area
    timelines: tuple[Timeline, ...]
    events: tuple[CaseEvent, ...]
    dissents: tuple[Dissent, ...]
    complaints: tuple[Complaint, ...]
    version: str
    # Professionals' display names by person id, read with the case (casework.records.CaseFile.names).
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Due:
    """One line of ``deadlines``: a duty of the person's, or a right that is open (``holder`` says whose)."""

    reference: str
    deadline: Deadline
    # "duty" (the person must do it) or "right" (a window open for ``holder``: not their overdue work).
    kind: str = "duty"
    holder: str = ""
    # What a person does to complete it (casework.duties.purpose).
    purpose: str = "none"
