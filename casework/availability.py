"""What the participants' calendars say, read through the Calendar port (ARCHITECTURE: Flow 3).

Graph's ``getSchedule`` is used, not ``findMeetingTimes``, which an app-only identity cannot call.
:func:`read_availability` gathers the busy blocks for the slot search (a calendar that cannot be read
is reported, not treated as busy), :class:`SlotOffer` is what the complaints manager is shown, and
:func:`refuse_if_busy` checks the chosen time once more just before the event is created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from casework.booking_window import BookingWindow
from casework.errors import InvalidInput
from casework.free_busy import Busy, blocks
from casework.meeting_times import Slot
from casework.panel import PanelCheck
from casework.ports_graph import Calendar
from casework.purposes import purpose_of
from casework.slots import SlotSearch
from casework.wording import named


@dataclass(frozen=True)
class SlotOffer:
    reference: str
    purpose: str
    window: BookingWindow
    search: SlotSearch
    participants: tuple[str, ...]
    panel: PanelCheck | None
    limitation: str | None

    def text(self) -> str:
        p = purpose_of(self.purpose)
        lines = [f"{p.title} for {self.reference}: {self.window.explanation}."]
        if self.search.slots:
            lines.append(
                "Slots (everyone and the room free): " + "; ".join(s.describe() for s in self.search.slots) + "."
            )
        elif self.search.shortfall is not None:
            lines.append(self.search.shortfall.text())
        lines.extend(self.search.notes)
        if self.panel is not None:
            chair = self.panel.chair
            lines.append(
                f"Suggested chair: {named(chair.name, fallback=chair.email or chair.person_id)} "
                f"({self.panel.least_involved.replace('_', ' ')})."
            )
            lines.extend(self.panel.warnings)
        if self.limitation:
            lines.append(self.limitation)
        return "\n".join(lines)


async def read_availability(
    calendar: Calendar, addresses: Sequence[str], start: datetime, until: datetime
) -> tuple[dict[str, list[Busy]], list[str]]:
    """Each address's busy blocks from ``start`` to ``until``, and the addresses whose calendar could not be read."""
    schedules = await calendar.get_schedules(addresses, start, until)
    by_address = {s.address.lower(): s for s in schedules}
    busy: dict[str, list[Busy]] = {}
    unknown: list[str] = []
    for a in addresses:
        s = by_address.get(a.lower())
        if s is None or s.error is not None:
            unknown.append(a)
        else:
            busy[a] = list(s.busy)
    return busy, unknown


async def refuse_if_busy(calendar: Calendar, addresses: Sequence[str], start: datetime, end: datetime) -> None:
    """Someone booked the time since the slots were offered: refuse, naming who, rather than double-book."""
    schedules = await calendar.get_schedules(addresses, start, end)
    clash = sorted(
        {s.address for s in schedules for b in s.busy if blocks(b.status) and b.start < end and b.end > start}
    )
    if clash:
        raise InvalidInput(f"no longer free at {Slot(start, end).describe()}: {', '.join(clash)}; look for slots again")
