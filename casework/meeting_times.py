"""Meeting times as a complaints manager reads them: working hours, a slot, and the latest end (ARCHITECTURE: Flow 3).

Everything here is in Europe/London wall-clock time, the zone of all statutory arithmetic
(ARCHITECTURE: Time). :func:`latest_meeting_end` turns the statutory date of a panel or Stage 2
meeting into the latest moment the meeting may end, keeping the time the pack allows for the
letter that follows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from casework.calendar import WorkingCalendar
from casework.clock import END_OF_DAY, LONDON, add_months, spoken_date
from casework.errors import InvalidInput
from casework.periods import Period


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """The hours meetings may be offered in, Europe/London wall-clock time (``CPC_WORKING_HOURS``)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        raw = text.strip()
        first, sep, second = raw.partition("-")
        try:
            if not sep:
                raise ValueError(raw)
            start = time.fromisoformat(first.strip())
            end = time.fromisoformat(second.strip())
        except ValueError:
            raise InvalidInput(f"working hours {text!r}: expected HH:MM-HH:MM, for example 09:00-17:00") from None
        if start >= end:
            raise InvalidInput(f"working hours {text!r}: the start must be before the end")
        return cls(start, end)

    def describe(self) -> str:
        return f"{self.start.strftime('%H:%M')}-{self.end.strftime('%H:%M')}"


def describe_time(t: datetime) -> str:
    """``Tue 5 Jan 2027 10:00 GMT``: a moment as a complaints manager reads it, in Europe/London."""
    local = t.astimezone(LONDON)
    return f"{spoken_date(local.date())} {local.strftime('%H:%M')} {local.tzname()}"


def describe_duration(d: timedelta) -> str:
    """``1 h 30 min``: a meeting's length in the words of a shortfall."""
    minutes = int(d.total_seconds() // 60)
    h, m = divmod(minutes, 60)
    if h and m:
        return f"{h} h {m} min"
    return f"{h} h" if h else f"{m} min"


@dataclass(frozen=True, slots=True)
class Slot:
    """A meeting time, in Europe/London."""

    start: datetime
    end: datetime

    def describe(self) -> str:
        s, e = self.start.astimezone(LONDON), self.end.astimezone(LONDON)
        return f"{spoken_date(s.date())} {s.strftime('%H:%M')}-{e.strftime('%H:%M')} {s.tzname()}"


def latest_meeting_end(
    due: datetime, calendar: WorkingCalendar, letter_time: Period | None = None
) -> tuple[datetime, str]:
    """The latest moment the meeting may end: the statutory ``due`` less the letter's time, if any.

    With a letter due "within 10 working days of its meeting", meeting on the 10th working day before
    the statutory date leaves the letter due on (or before) that date. Returns the moment and a
    sentence explaining it.
    """
    local = due.astimezone(LONDON)
    if letter_time is None:
        return local, f"the statutory date, {describe_time(local)}"
    n, unit = letter_time.amount, letter_time.unit
    d = local.date()
    if unit in ("hours", "minutes"):
        less = timedelta(hours=n) if unit == "hours" else timedelta(minutes=n)
        end = (due.astimezone(UTC) - less).astimezone(LONDON)
    else:
        if unit == "working_days":
            last = calendar.subtract_working_days(d, n)
        elif unit == "days":
            last = d - timedelta(days=n)
        elif unit == "weeks":
            last = d - timedelta(days=7 * n)
        else:
            last = add_months(d, -n)
        end = datetime.combine(last, END_OF_DAY, tzinfo=LONDON)
    return (
        end,
        f"{describe_time(end)}: the statutory date {describe_time(local)} less {letter_time.text} for the letter",
    )
