"""Free/busy: what a calendar says of a participant's time, and which of it blocks a meeting (ARCHITECTURE: Flow 3).

Graph's ``getSchedule`` (or the bot's own bookings when no tenant is configured) reports each
participant's calendar as blocks with a ``freeBusyStatus``. This module holds that vocabulary
apart from the slot search so that the calendar port (:mod:`casework.ports_graph`) and the Graph
adapter can speak it without the interval arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: Statuses Graph reports (``freeBusyStatus``), lower-cased. ``free`` and ``workingelsewhere`` leave
#: a person available; ``tentative`` blocks unless the caller says otherwise; anything else
#: (``busy``, ``oof``, ``unknown``, or a status this code does not know) blocks.
STATUSES: tuple[str, ...] = ("free", "tentative", "busy", "oof", "workingelsewhere", "unknown")
_AVAILABLE = frozenset({"free", "workingelsewhere"})


def normalise_status(status: str | None) -> str:
    """Graph's statuses arrive in more than one casing (``Tentative``, ``workingElsewhere``)."""
    s = (status or "busy").strip().lower()
    return s if s in STATUSES else "busy"


def blocks(status: str, tentative_blocks: bool = True) -> bool:
    """Whether a block with this status keeps a meeting out (an unknown status does: better safe)."""
    s = normalise_status(status)
    if s in _AVAILABLE:
        return False
    if s == "tentative":
        return tentative_blocks
    return True


@dataclass(frozen=True, slots=True)
class Busy:
    """One block of someone's calendar: ``[start, end)`` with its free/busy status."""

    start: datetime
    end: datetime
    status: str = "busy"
