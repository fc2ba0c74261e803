"""The meetings the bot books: a Stage 2 complaint meeting or an inter-agency panel (ARCHITECTURE: Flow 3).

A purpose names the event that meets the statutory duty (so the booking window can find the duty's
date) and whether the meeting is a panel, whose composition is checked against the area's
``[panel]`` rules and whose invitation carries the papers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from casework.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Purpose:
    """One kind of meeting: its title in invitations, and the event that meets its statutory duty."""

    id: str
    title: str
    completes: str  # the event that meets the statutory duty
    panel: bool  # checked against the area's [panel] rules, with the papers in the body


PURPOSES: Mapping[str, Purpose] = {
    "panel": Purpose("panel", "Inter-agency complaint panel", "panel_held", True),
    "stage2-meeting": Purpose("stage2-meeting", "Stage 2 complaint meeting", "stage2_meeting_held", False),
}


def purpose_of(name: str) -> Purpose:
    """The purpose named on a command or card; an unknown name is refused with the ones there are."""
    try:
        return PURPOSES[name]
    except KeyError:
        raise InvalidInput(f"unknown meeting {name!r}; choose one of: {', '.join(PURPOSES)}") from None
