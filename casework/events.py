"""The canonical events (ARCHITECTURE: Domain vocabulary) and which must not precede which.

A pack may declare extra events of its own (a decision letter sent, a core group held), so that a
duty with no canonical completing event can still be marked met.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from casework.clock import local_date, when_recorded
from casework.errors import EventOrderError, UnknownEvent

CANONICAL_EVENTS: tuple[str, ...] = (
    "strategy_discussion",
    "conference_scheduled",
    "conference_held",
    "conference_ended",
    "record_received",
    "minutes_requested",
    "minutes_received",
    "expected_delivery",
    "prebirth_conference_held",
    "birth",
    "review_held",
    "dissent_raised",
    "dissent_recorded",
    "dissent_upheld",
    "dissent_not_upheld",
    "concern_raised",
    "complaint_received",
    "stage1_meeting_held",
    "stage1_response_sent",
    "stage1_response_received",
    "stage2_requested",
    "stage2_meeting_held",
    "stage2_letter_sent",
    "stage2_letter_received",
    "stage3_requested",
    "panel_held",
    "panel_letter_sent",
    "closed",
)

# event -> events that, when both are recorded, must not come after it (first occurrences compared).
MUST_FOLLOW: Mapping[str, tuple[str, ...]] = {
    "conference_held": ("strategy_discussion",),
    "conference_ended": ("conference_held",),
    "record_received": ("conference_held",),
    "minutes_requested": ("conference_held",),
    "minutes_received": ("minutes_requested", "conference_held"),
    "birth": ("prebirth_conference_held",),
    "review_held": ("conference_held", "prebirth_conference_held"),
    "dissent_raised": ("conference_held",),
    "dissent_recorded": ("dissent_raised",),
    "dissent_upheld": ("dissent_raised",),
    "dissent_not_upheld": ("dissent_raised",),
    "concern_raised": ("conference_held",),
    "complaint_received": ("conference_held",),
    "stage1_meeting_held": ("complaint_received",),
    "stage1_response_sent": ("complaint_received",),
    "stage1_response_received": ("stage1_response_sent",),
    "stage2_requested": ("complaint_received",),
    "stage2_meeting_held": ("stage2_requested",),
    "stage2_letter_sent": ("stage2_requested",),
    "stage2_letter_received": ("stage2_letter_sent",),
    "stage3_requested": ("stage2_requested",),
    "panel_held": ("complaint_received",),
    "panel_letter_sent": ("panel_held",),
}

# Why an order holds, where the reason is not plain from the names.
ORDER_REASONS: Mapping[tuple[str, str], str] = {
    ("birth", "prebirth_conference_held"): (
        "a pre-birth conference concerns an unborn child: 004_974a7b50b4cfbdbf.txt 8.14.1"
    ),
}

# The events that open a conference meeting. A ``conference_ended`` closes the latest of them before it.
MEETING_STARTS: tuple[str, ...] = ("conference_held", "prebirth_conference_held", "review_held")


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened (or, for ``*_scheduled`` and ``expected_delivery``, is planned)."""

    name: str
    at: datetime


def index_events(events: Iterable[Event], known: frozenset[str], area: str) -> dict[str, list[datetime]]:
    """Group by name, sorted by time; refuse unknown names and events that precede what they follow."""
    by_name: dict[str, list[datetime]] = {}
    for e in events:
        if e.name not in known:
            raise UnknownEvent(e.name, area, sorted(known))
        by_name.setdefault(e.name, []).append(e.at)
    for times in by_name.values():
        times.sort()
    # By date: an event may fall on the same day as the one it follows, and a date given without a time
    # (a complaint received "on 17 Dec") is kept at that day's start (issue 9 item 4). So a birth on the
    # day of the pre-birth conference is accepted: the conference that morning, the birth that
    # afternoon, and no deadline changes with their order within the day.
    check_order(by_name, lambda name, at, before, other: local_date(at) < local_date(other))
    return by_name


def check_order(
    by_name: Mapping[str, list[datetime]], too_early: Callable[[str, datetime, str, datetime], bool]
) -> None:
    """Refuse the first event whose first occurrence comes before one it must follow (``MUST_FOLLOW``),
    as ``too_early`` judges it (by date here; by time, where both times were given, in
    casework.event_checks)."""
    for name, times in by_name.items():
        for before in MUST_FOLLOW.get(name, ()):
            other = by_name.get(before)
            if other and times[0] < other[0] and too_early(name, times[0], before, other[0]):
                raise EventOrderError(
                    name,
                    when_recorded(times[0]),
                    before,
                    when_recorded(other[0]),
                    ORDER_REASONS.get((name, before), ""),
                    moment=times[0],
                )


def first_present(names: Sequence[str], by_name: Mapping[str, list[datetime]]) -> str | None:
    """The first name in ``names`` that has been recorded ("the first present of a list")."""
    for n in names:
        if n in by_name:
            return n
    return None


def ends_meeting(
    name: str | None, end: datetime, start: datetime | None, by_name: Mapping[str, list[datetime]]
) -> bool:
    """Whether ``name`` at ``end`` closes the meeting that began at ``start``. A ``conference_ended``
    closes the latest meeting start (:data:`MEETING_STARTS`) at or before it; any other event is
    taken as it is."""
    if name != "conference_ended":
        return True
    starts = [t for n in MEETING_STARTS for t in by_name.get(n, ()) if t <= end]
    return bool(starts) and max(starts) == start
