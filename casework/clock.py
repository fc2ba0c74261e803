"""Time in Europe/London: every statutory date is worked out on the local calendar.

Timestamps are stored in UTC; the law and the procedures speak of local dates ("within 10 working
days of the conference"), so arithmetic converts at the boundary and back (ARCHITECTURE: Time).
"""

from __future__ import annotations

import calendar as _calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from casework.errors import AmbiguousTime, MalformedTime, NonexistentTime

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


def _transition(naive: datetime) -> tuple[datetime, datetime, datetime]:
    """For a wall-clock time in a clock change's hour: the change's moment (UTC) and the two readings
    (``fold`` 0 and 1) as aware Europe/London times. The moment is found minute by minute between them."""
    first = naive.replace(tzinfo=LONDON, fold=0)
    second = naive.replace(tzinfo=LONDON, fold=1)
    lo, hi = sorted((first.astimezone(UTC), second.astimezone(UTC)))
    before = lo.astimezone(LONDON).utcoffset()
    at = lo
    while at < hi and at.astimezone(LONDON).utcoffset() == before:
        at += timedelta(minutes=1)
    return at, first, second


def add_elapsed_minutes(ts: datetime, minutes: int) -> datetime:
    """Elapsed minutes, measured in UTC (how long a meeting may last, 004 8.9.10)."""
    return (ts.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(LONDON)


def _clock_at(moment: datetime, reading: datetime) -> str:
    """The wall clock at a change's moment in the offset of one reading: "01:00 GMT", "02:00 BST"."""
    return f"{moment + (reading.utcoffset() or timedelta()):%H:%M} {reading.tzname()}"


def _reading(ts: datetime) -> str:
    """One reading of a wall-clock time: "01:30 BST = 00:30 UTC"."""
    return f"{ts:%H:%M} {ts.tzname()} = {ts.astimezone(UTC):%H:%M} UTC"


def _offset_form(naive: datetime, ts: datetime) -> str:
    """The same wall-clock time written with the offset of one reading: 2027-10-31T01:30+01:00."""
    z = ts.strftime("%z")
    return f"{naive.isoformat(timespec='minutes')}{z[:3]}:{z[3:]}"


def local_moment(naive: datetime, text: str, what: str = "time", offsets: bool = True) -> datetime:
    """A Europe/London wall-clock time as an aware moment, refusing the two that name no single moment.

    In the autumn the hour before the clocks go back happens twice (01:30 on Sun 31 Oct 2027 is 00:30
    UTC in BST and 01:30 UTC in GMT), so it is refused naming both readings; in the spring the hour the
    clocks skip never happens (01:30 on Sun 28 Mar 2027). Neither is ever taken silently: a deadline
    counted in elapsed hours moves by an hour with the reading (ARCHITECTURE: Time). ``offsets`` says
    whether the person can type an offset (the command line can: the message says how; a Teams time
    box cannot: a short sentence says what to do instead).
    """
    first = naive.replace(tzinfo=LONDON, fold=0)
    second = naive.replace(tzinfo=LONDON, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    moment, first, second = _transition(naive)
    at = f"{naive:%H:%M} on {spoken_date(naive.date())}"
    was, now = _clock_at(moment, first), _clock_at(moment, second)
    if first.astimezone(UTC) > second.astimezone(UTC):
        # The clocks went forward: the wall clock skips this time (fold 0 reads it in the old offset).
        change = f"the clocks go forward from {was} to {now}"
        if not offsets:
            raise NonexistentTime(
                f"{what} {at} does not exist ({change}): give the time the clock showed, from {now[:5]}, "
                "or leave the time empty",
                text,
            )
        later = first.astimezone(UTC).astimezone(LONDON)
        raise NonexistentTime(
            f"{what} {text!r} does not exist: {at} is skipped in UK time, as {change}; give the time the clock "
            f"showed, or an offset ({_offset_form(naive, first)} is {later:%H:%M %Z})",
            text,
        )
    # The clocks went back: the wall clock shows the hour from ``now`` twice (until ``was`` in the old offset).
    change = f"the clocks go back from {was} to {now}"
    if not offsets:
        last = (moment + (first.utcoffset() or timedelta()) - timedelta(minutes=1)).strftime("%H:%M")
        raise AmbiguousTime(
            f"{what} {at} happens twice ({change}): leave the time empty to record the date alone, or give a "
            f"time outside {now[:5]}-{last}",
            text,
        )
    raise AmbiguousTime(
        f"{what} {text!r} is ambiguous: {at} happens twice in UK time, as {change}: it is {_reading(first)}, "
        f"or {_reading(second)}; give the offset: {_offset_form(naive, first)} for {first.tzname()} or "
        f"{_offset_form(naive, second)} for {second.tzname()}",
        text,
    )


def parse_given(text: str, what: str = "time") -> tuple[datetime, bool]:
    """Parse ISO 8601: (the moment in UTC, whether a time of day was given).

    A time without an offset is Europe/London wall-clock time (:func:`local_moment` refuses the autumn's
    repeated hour and the spring's missing one); a bare date is kept at its day's start and reported as
    having no time, so a caller can refuse it where 00:00 would change a deadline counted in hours.
    """
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        return start_of_day(date.fromisoformat(raw)).astimezone(UTC), False
    except ValueError:
        pass
    try:
        ts = datetime.fromisoformat(raw)
    except ValueError:
        raise MalformedTime(text, what) from None
    if ts.tzinfo is None:
        ts = local_moment(ts, text, what)
    return ts.astimezone(UTC), True


def parse_time(text: str, what: str = "time") -> datetime:
    """Parse ISO 8601 (see :func:`parse_given`); a bare date is midnight, Europe/London."""
    return parse_given(text, what)[0]


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
