"""The batch API gives exactly what the per-date call gives: same dates, same refusals.

The hand-worked dates are England and Wales bank holidays (Wales shares England's), each counted in a
comment so that a reader can check them against a printed calendar.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.calendar import WorkingCalendar, calendar_for
from casework.errors import CalendarRangeError

# (start, n, expected): the Nth working day after start in England and Wales, start not counted.
HAND_WORKED = [
    # Christmas 2026: Fri 25 Christmas Day, Sat 26 Boxing Day whose substitute is Mon 28.
    # Thu 24 Dec: [Fri 25, Sat 26, Sun 27, Mon 28 (Boxing Day observed)], Tue 29 (1).
    (date(2026, 12, 24), 1, date(2026, 12, 29)),
    # Statutory-style 15 working days from Mon 7 Dec 2026: Tue 8 (1), Wed 9 (2), Thu 10 (3), Fri 11
    # (4), Mon 14 (5), Tue 15 (6), Wed 16 (7), Thu 17 (8), Fri 18 (9), Mon 21 (10), Tue 22 (11), Wed 23
    # (12), Thu 24 (13), [Fri 25, Sat, Sun, Mon 28], Tue 29 (14), Wed 30 Dec (15).
    (date(2026, 12, 7), 15, date(2026, 12, 30)),
    # Across the year: Wed 30 Dec 2026: Thu 31 (1), [Fri 1 Jan 2027 New Year's Day, Sat, Sun], Mon 4 (2).
    (date(2026, 12, 30), 2, date(2027, 1, 4)),
    # Christmas 2027 falls on Sat 25 and Sun 26: substitutes Mon 27 and Tue 28.
    # Fri 24 Dec 2027: [Sat 25, Sun 26, Mon 27 (Christmas observed), Tue 28 (Boxing observed)], Wed 29 (1).
    (date(2027, 12, 24), 1, date(2027, 12, 29)),
    # New Year 2028 falls on a Saturday: substitute Mon 3 Jan.
    # Thu 30 Dec 2027: Fri 31 (1), [Sat 1 Jan 2028, Sun 2, Mon 3 (New Year's Day observed)], Tue 4 (2),
    # Wed 5 (3).
    (date(2027, 12, 30), 3, date(2028, 1, 5)),
    # Easter 2027: Good Friday 26 Mar, Easter Monday 29 Mar.
    # Thu 25 Mar: [Fri 26, Sat 27, Sun 28, Mon 29], Tue 30 (1), Wed 31 (2).
    (date(2027, 3, 25), 2, date(2027, 3, 31)),
    # Easter 2026: Good Friday 3 Apr, Easter Monday 6 Apr; starting on Good Friday itself.
    # Fri 3 Apr: [Sat 4, Sun 5, Mon 6], Tue 7 (1), Wed 8 (2), Thu 9 (3), Fri 10 (4), Mon 13 (5).
    (date(2026, 4, 3), 5, date(2026, 4, 13)),
    # Weekends: Fri 8 Jan 2027, Sat 9 and Sun 10 all give Mon 11 (1).
    (date(2027, 1, 8), 1, date(2027, 1, 11)),
    (date(2027, 1, 9), 1, date(2027, 1, 11)),
    (date(2027, 1, 10), 1, date(2027, 1, 11)),
]


@pytest.mark.parametrize("nation", ["ENG", "WLS"])
def test_hand_worked_dates_per_date_and_in_one_batch(nation: str) -> None:
    cal = calendar_for(nation)
    starts = [s for s, _, _ in HAND_WORKED]
    ns = [n for _, n, _ in HAND_WORKED]
    want = [e for _, _, e in HAND_WORKED]
    assert [cal.add_working_days(s, n) for s, n in zip(starts, ns, strict=True)] == want
    assert cal.add_working_days_batch(starts, ns) == want


def test_one_count_for_every_start() -> None:
    cal = calendar_for("ENG")
    starts = [s for s, _, _ in HAND_WORKED]
    for n in (1, 2, 10, 250):
        assert cal.add_working_days_batch(starts, n) == [cal.add_working_days(s, n) for s in starts]


def test_closure_days_count_in_the_batch() -> None:
    # Thu 17 Dec 2026, Christmas Eve and New Year's Eve closed (as in test_calendar): Thu 7 Jan 2027.
    cal = WorkingCalendar("ENG", frozenset({date(2026, 12, 24), date(2026, 12, 31)}))
    assert cal.add_working_days_batch([date(2026, 12, 17)], 10) == [date(2027, 1, 7)]


def test_empty_batch() -> None:
    assert calendar_for("ENG").add_working_days_batch([], 3) == []
    assert calendar_for("ENG").add_working_days_batch([], []) == []


@pytest.mark.parametrize("bad", [0, -1])
def test_zero_and_negative_counts_are_refused_as_by_the_single_call(bad: int) -> None:
    cal = calendar_for("ENG")
    d = date(2026, 12, 24)
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_working_days(d, bad)
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_working_days_batch([d], bad)
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_working_days_batch([d, d], [3, bad])


def test_counts_must_match_starts() -> None:
    with pytest.raises(ValueError, match="2 counts for 1 starts"):
        calendar_for("ENG").add_working_days_batch([date(2026, 12, 24)], [1, 2])


@pytest.mark.parametrize(
    ("start", "n", "year"),
    [(date(1999, 12, 31), 1, 1999), (date(2076, 1, 1), 1, 2076), (date(2075, 12, 30), 5, 2076)],
)
def test_outside_the_years_is_refused_as_by_the_single_call(start: date, n: int, year: int) -> None:
    cal = calendar_for("ENG")
    with pytest.raises(CalendarRangeError, match=f"date in {year} "):
        cal.add_working_days(start, n)
    with pytest.raises(CalendarRangeError, match=f"date in {year} "):
        cal.add_working_days_batch([date(2026, 1, 5), start], n)


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.dates(min_value=date(2000, 1, 1), max_value=date(2074, 6, 30)), st.integers(1, 80)),
        max_size=40,
    ),
    nation=st.sampled_from(["ENG", "WLS", "SCT", "NIR"]),
)
def test_batch_matches_the_per_date_call(pairs: list[tuple[date, int]], nation: str) -> None:
    cal = calendar_for(nation)
    starts = [d for d, _ in pairs]
    ns = [n for _, n in pairs]
    assert cal.add_working_days_batch(starts, ns) == [cal.add_working_days(d, n) for d, n in pairs]


def test_the_first_failing_date_decides_the_error_as_in_a_loop_of_single_calls() -> None:
    cal = calendar_for("ENG")
    with pytest.raises(CalendarRangeError, match="date in 1999 "):
        cal.add_working_days_batch([date(2026, 1, 5), date(1999, 6, 1), date(2026, 1, 5)], [1, 1, 0])
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_working_days_batch([date(2026, 1, 5), date(2026, 1, 5), date(1999, 6, 1)], [1, 0, 1])
