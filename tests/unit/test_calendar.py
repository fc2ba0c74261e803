"""The bisect calendar against a naive day-by-day walk over ``holidays`` itself."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.calendar import WorkingCalendar, calendar_for
from casework.clock import LONDON, add_months, parse_time
from casework.errors import CalendarRangeError, MalformedPeriod, MalformedTime
from casework.periods import parse_period

_BANK = {n: holidays.country_holidays("GB", subdiv=n, years=range(2000, 2076)) for n in ("ENG", "SCT", "NIR")}


def naive_add(d: date, n: int, nation: str, closures: frozenset[date] = frozenset()) -> date:
    cur = d
    while n:
        cur += timedelta(days=1)
        if cur.weekday() < 5 and cur not in _BANK[nation] and cur not in closures:
            n -= 1
    return cur


def naive_sub(d: date, n: int, nation: str) -> date:
    cur = d
    while n:
        cur -= timedelta(days=1)
        if cur.weekday() < 5 and cur not in _BANK[nation]:
            n -= 1
    return cur


@settings(max_examples=400, deadline=None)
@given(
    d=st.dates(min_value=date(2001, 1, 1), max_value=date(2074, 6, 30)),
    n=st.integers(min_value=1, max_value=80),
    nation=st.sampled_from(["ENG", "SCT", "NIR"]),
)
def test_add_and_subtract_match_naive_walk(d: date, n: int, nation: str) -> None:
    cal = calendar_for(nation)
    assert cal.add_working_days(d, n) == naive_add(d, n, nation)
    assert cal.subtract_working_days(d, n) == naive_sub(d, n, nation)


def test_every_day_of_the_years_is_classed_as_holidays_says() -> None:
    # The precomputed counts must not drift by a day anywhere, the first and last days included.
    for nation in ("ENG", "SCT", "NIR"):
        cal = calendar_for(nation)
        d, end = date(2000, 1, 1), date(2075, 12, 31)
        while d <= end:
            assert cal.is_working_day(d) == (d.weekday() < 5 and d not in _BANK[nation]), (nation, d)
            d += timedelta(days=1)
    assert calendar_for("ENG").subtract_working_days(date(2000, 1, 5), 1) == date(2000, 1, 4)
    with pytest.raises(CalendarRangeError):
        calendar_for("ENG").subtract_working_days(date(2000, 1, 4), 1)


def test_closure_days_are_skipped_and_named() -> None:
    closures = frozenset({date(2026, 12, 24), date(2026, 12, 31)})
    cal = WorkingCalendar("ENG", closures)
    # From Thu 17 Dec 2026, 10 wd with Christmas Eve and New Year's Eve closed: Fri 18 (1),
    # Mon 21 .. Wed 23 (2-4), [Thu 24 closed, 25, 28], Tue 29 (5), Wed 30 (6), [Thu 31 closed, 1 Jan],
    # Mon 4 (7), Tue 5 (8), Wed 6 (9), Thu 7 Jan (10).
    assert cal.add_working_days(date(2026, 12, 17), 10) == date(2027, 1, 7)
    assert cal.add_working_days(date(2026, 12, 17), 10) == naive_add(date(2026, 12, 17), 10, "ENG", closures)
    reasons = {s.day: s.reason for s in cal.skipped_between(date(2026, 12, 17), date(2027, 1, 7))}
    assert reasons[date(2026, 12, 24)] == "local closure day"
    assert reasons[date(2026, 12, 28)] == "Boxing Day (observed)"
    assert not cal.is_working_day(date(2026, 12, 24))
    assert calendar_for("ENG").is_working_day(date(2026, 12, 24))


def test_scotland_keeps_2_january() -> None:
    # 2 Jan 2027 is a Saturday: Scotland's substitute is Mon 4 Jan, England has none.
    assert calendar_for("ENG").add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert calendar_for("SCT").add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 5)


def test_out_of_range_is_a_clear_error() -> None:
    with pytest.raises(CalendarRangeError, match="outside the working-day calendar"):
        calendar_for("ENG").add_working_days(date(1999, 12, 1), 1)
    with pytest.raises(CalendarRangeError):
        calendar_for("ENG").add_working_days(date(2075, 12, 30), 5)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
    ],
)
def test_months_are_corresponding_dates_clamped(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("72 hours", 72, "hours"),
        ("10 working days", 10, "working_days"),
        ("1 working day", 1, "working_days"),
        ("1 working week", 5, "working_days"),
        ("28 days", 28, "days"),
        ("10 weeks", 10, "weeks"),
        ("3 months", 3, "months"),
        ("1 year", 12, "months"),
    ],
)
def test_periods(text: str, amount: int, unit: str) -> None:
    p = parse_period(text)
    assert (p.amount, p.unit) == (amount, unit)


@pytest.mark.parametrize("text", ["", "ten days", "10", "10 fortnights", "-3 days", "3.5 days"])
def test_bad_periods_refused(text: str) -> None:
    with pytest.raises(MalformedPeriod):
        parse_period(text)


def test_parse_time_local_and_offsets() -> None:
    # No offset: Europe/London wall clock. 14:00 in July is 13:00 UTC.
    assert parse_time("2026-07-01T14:00").hour == 13
    assert parse_time("2026-07-01T14:00Z").hour == 14
    assert parse_time("2026-07-01T14:00+02:00").hour == 12
    assert parse_time("2026-12-01").astimezone(LONDON) == datetime(2026, 12, 1, tzinfo=LONDON)


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01T10:00", "17/12/2026 14:00", "2026-03-29T01:30"])
def test_malformed_or_nonexistent_times_refused(text: str) -> None:
    # The last one is in the spring-forward gap: 01:30 on 29 Mar 2026 never happened in London.
    with pytest.raises(MalformedTime):
        parse_time(text)
