"""Time in Europe/London: every statutory date is worked out on the local calendar.

Timestamps are stored in UTC; the law and the procedures speak of local dates ("within 10 working
days of the conference"), so arithmetic converts at the boundary and back (ARCHITECTURE: Time).
"""

from __future__ import annotations

import calendar as _calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from casework.errors import MalformedTime

LONDON = ZoneInfo("Europe/London")
END_OF_DAY = time(23, 59, 59)


def local_date(ts: datetime) -> date:
    """The Europe/London calendar date of an aware timestamp."""
    return ts.astimezone(LONDON).date()


def end_of_day(d: date) -> datetime:
    """23:59:59 local on ``d``: a deadline "by" a date ends at the end of that day."""
    return datetime.combine(d, END_OF_DAY, tzinfo=LONDON)


def start_of_day(d: date) -> datetime:
    """00:00 local on ``d``: where a date given without a time is kept (flagged as having no time)."""
    return datetime.combine(d, time(0, 0), tzinfo=LONDON)


def add_months(d: date, months: int) -> date:
    """The corresponding date N months on, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = d.month - 1 + months
    year = d.year + index // 12
    month = index % 12 + 1
    last = _calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last))


def add_elapsed_hours(ts: datetime, hours: int) -> datetime:
    """Elapsed hours, measured in UTC, so a window crossing a clock change is exactly N real hours."""
    return (ts.astimezone(UTC) + timedelta(hours=hours)).astimezone(LONDON)


def add_elapsed_minutes(ts: datetime, minutes: int) -> datetime:
    """Elapsed minutes, measured in UTC (how long a meeting may last, 004 8.9.10)."""
    return (ts.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(LONDON)


def parse_time(text: str, what: str = "time") -> datetime:
    """Parse ISO 8601. A time without an offset is Europe/London wall-clock time; a bare date is midnight.

    An ambiguous wall-clock time in the autumn fold is read as the first occurrence (BST).
    """
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(raw)
    except ValueError:
        raise MalformedTime(text, what) from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=LONDON)
        # A wall-clock time that does not exist (spring gap) is refused: it names no real moment.
        roundtrip = ts.astimezone(UTC).astimezone(LONDON)
        if roundtrip.replace(tzinfo=None) != ts.replace(tzinfo=None):
            raise MalformedTime(text, what + " (it falls in the spring clock-change gap)")
    return ts.astimezone(UTC)


def spoken_date(d: date) -> str:
    """A date as people read it in a card or a message: "Tue 1 Dec 2026"."""
    return f"{d:%a} {d.day} {d:%b %Y}"


def spoken(ts: datetime) -> str:
    """A moment as people read it: "Tue 1 Dec 2026, 08:04" (UK time), or "end of Tue 15 Dec 2026"
    for a deadline at the end of a day."""
    local = ts.astimezone(LONDON)
    if local.timetz().replace(tzinfo=None) == END_OF_DAY:
        return f"end of {spoken_date(local.date())}"
    return f"{spoken_date(local.date())}, {local:%H:%M}"


def to_local_iso(ts: datetime) -> str:
    """ISO 8601 with the Europe/London UTC offset of that moment, e.g. 2027-01-05T23:59:59+00:00."""
    return ts.astimezone(LONDON).isoformat(timespec="seconds")


def when(ts: datetime | None) -> str:
    """A moment in words for a card, an email or a digest; "not dated" when there is none."""
    return "not dated" if ts is None else spoken(ts)


def when_recorded(ts: datetime) -> str:
    """An event's moment as the user gave it: a date given without a time is kept at that day's start
    (:func:`start_of_day`) and reads as the date alone, never as a made-up "00:00"."""
    local = ts.astimezone(LONDON)
    return spoken_date(local.date()) if (local.hour, local.minute, local.second) == (0, 0, 0) else spoken(ts)
