"""Slot finding: hand-worked cases, then generated calendars against the minute-by-minute reference."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.calendar import calendar_for
from casework.clock import END_OF_DAY, LONDON
from casework.errors import InvalidInput
from casework.periods import parse_period
from casework.slots import STATUSES, Busy, WorkingHours, find_slots, latest_meeting_end
from tests.slot_reference import at, reference_day_reports, reference_first_after, reference_slots

ENG = calendar_for("ENG")
NINE_TO_FIVE = WorkingHours(time(9), time(17))
HOUR = timedelta(hours=1)


def b(d: date, h0: int, m0: int, h1: int, m1: int, status: str = "busy") -> Busy:
    return Busy(at(d, h0, m0), at(d, h1, m1), status)


# -- hand-worked cases ---------------------------------------------------------------------------


def test_first_common_gap_on_one_day() -> None:
    mon = date(2027, 1, 4)  # a Monday; New Year's Day was the Friday before
    res = find_slots(
        {"a": [b(mon, 9, 0, 10, 0)], "b": [b(mon, 10, 0, 12, 0)], "room": []},
        duration=HOUR,
        earliest=at(mon, 8),
        latest_end=at(mon, 23),
        calendar=ENG,
        hours=NINE_TO_FIVE,
    )
    assert [(s.start, s.end) for s in res.slots] == [(at(mon, 12), at(mon, 13))]
    assert res.shortfall is None


def test_slots_are_one_per_day_earliest_first() -> None:
    mon = date(2027, 1, 4)
    res = find_slots(
        {"a": [b(mon, 9, 0, 16, 0)]},
        duration=timedelta(minutes=90),
        earliest=at(mon, 8),
        latest_end=at(mon + timedelta(days=4), 23),
        calendar=ENG,
        hours=NINE_TO_FIVE,
    )
    # Monday has only 16:00-17:00 left (too short for 90 minutes); then Tuesday, Wednesday, Thursday 09:00.
    assert [s.describe() for s in res.slots] == [
        "Tue 5 Jan 2027 09:00-10:30 GMT",
        "Wed 6 Jan 2027 09:00-10:30 GMT",
        "Thu 7 Jan 2027 09:00-10:30 GMT",
    ]


def test_starts_are_aligned_to_the_step_and_never_before_now() -> None:
    mon = date(2027, 1, 4)
    res = find_slots(
        {"a": [b(mon, 9, 0, 10, 10)]},
        duration=HOUR,
        earliest=datetime(2027, 1, 4, 9, 5, tzinfo=UTC),
        latest_end=at(mon, 23),
        calendar=ENG,
        hours=NINE_TO_FIVE,
        step=timedelta(minutes=15),
        count=2,
        one_per_day=False,
    )
    assert [s.start for s in res.slots] == [at(mon, 10, 15), at(mon, 10, 30)]


def test_tentative_blocks_unless_told_otherwise_and_working_elsewhere_does_not() -> None:
    mon = date(2027, 1, 4)
    busy = {"a": [b(mon, 9, 0, 12, 0, "Tentative"), b(mon, 12, 0, 13, 0, "workingElsewhere")]}
    kw = dict(duration=HOUR, earliest=at(mon, 8), latest_end=at(mon, 23), calendar=ENG, hours=NINE_TO_FIVE)
    assert find_slots(busy, **kw).slots[0].start == at(mon, 12)  # type: ignore[arg-type]
    assert find_slots(busy, tentative_blocks=False, **kw).slots[0].start == at(mon, 9)  # type: ignore[arg-type]


def test_out_of_office_and_unknown_status_block() -> None:
    mon = date(2027, 1, 4)
    busy = {"a": [b(mon, 9, 0, 11, 0, "oof"), b(mon, 11, 0, 12, 0, "unknown"), b(mon, 12, 0, 13, 0, "mystery")]}
    res = find_slots(busy, duration=HOUR, earliest=at(mon, 8), latest_end=at(mon, 23), calendar=ENG, hours=NINE_TO_FIVE)
    assert res.slots[0].start == at(mon, 13)


def test_easter_and_the_spring_clock_change_are_skipped_and_09_00_stays_09_00() -> None:
    # Thu 25 Mar 2027 after hours. Fri 26 Good Friday, Sat 27, Sun 28 (Easter Day; clocks go
    # forward at 01:00 UTC), Mon 29 Easter Monday: the next working day is Tue 30 Mar, 09:00 BST.
    res = find_slots(
        {"a": []},
        duration=HOUR,
        earliest=at(date(2027, 3, 25), 17, 30),
        latest_end=at(date(2027, 3, 31), 23),
        calendar=ENG,
        hours=NINE_TO_FIVE,
        count=1,
    )
    (slot,) = res.slots
    assert slot.start == at(date(2027, 3, 30), 9)
    assert slot.start.astimezone(UTC) == datetime(2027, 3, 30, 8, 0, tzinfo=UTC)
    assert slot.describe() == "Tue 30 Mar 2027 09:00-10:00 BST"


def test_busy_reported_in_utc_across_the_autumn_clock_change() -> None:
    # Clocks go back on Sun 31 Oct 2027. Fri 29 Oct 09:00 BST is 08:00 UTC; Mon 1 Nov 09:00 GMT is 09:00 UTC.
    busy = {
        "a": [
            Busy(
                datetime(2027, 10, 29, 8, 0, tzinfo=UTC), datetime(2027, 10, 29, 16, 0, tzinfo=UTC)
            ),  # 09:00-17:00 BST
            Busy(datetime(2027, 11, 1, 9, 0, tzinfo=UTC), datetime(2027, 11, 1, 10, 0, tzinfo=UTC)),  # 09:00-10:00 GMT
        ]
    }
    res = find_slots(
        busy,
        duration=HOUR,
        earliest=at(date(2027, 10, 29), 8),
        latest_end=at(date(2027, 11, 2), 23),
        calendar=ENG,
        hours=NINE_TO_FIVE,
        count=1,
    )
    assert res.slots[0].start == at(date(2027, 11, 1), 10)
    assert res.slots[0].start.utcoffset() == timedelta(0)


def test_latest_meeting_end_keeps_the_letters_ten_working_days_sussex_panel() -> None:
    # Sussex 5.7.28: panel within 20 working days of stage3_requested on Mon 4 Jan 2027, start day not counted:
    # Jan 5(1) 6(2) 7(3) 8(4) 11(5) 12(6) 13(7) 14(8) 15(9) 18(10) 19(11) 20(12) 21(13) 22(14) 25(15) 26(16)
    # 27(17) 28(18) 29(19) Feb 1(20) -> Mon 1 Feb 2027. Letter (5.7.30, 10 working days) counted back from 1 Feb:
    # Jan 29(1) 28(2) 27(3) 26(4) 25(5) 22(6) 21(7) 20(8) 19(9) 18(10) -> the meeting must be by Mon 18 Jan.
    due = ENG.add_working_days(date(2027, 1, 4), 20)
    assert due == date(2027, 2, 1)
    end, why = latest_meeting_end(
        datetime.combine(due, END_OF_DAY, tzinfo=LONDON), ENG, parse_period("10 working days")
    )
    assert end == datetime.combine(date(2027, 1, 18), END_OF_DAY, tzinfo=LONDON)
    assert "less 10 working days for the letter" in why
    assert ENG.add_working_days(date(2027, 1, 18), 10) == due


def test_latest_meeting_end_over_christmas_hipps() -> None:
    # 4LSCB Stage 2 (000 §3): panel within 28 days or 20 working days of stage2_requested on Mon 14 Dec 2026,
    # the sooner: 14 Dec + 28 days = Mon 11 Jan 2027. Letter 10 working days counted back from 11 Jan:
    # Jan 8(1) 7(2) 6(3) 5(4) 4(5) [1 Jan New Year's Day] Dec 31(6) 30(7) 29(8) [28 Boxing Day substitute,
    # 25 Christmas Day] 24(9) 23(10) -> Wed 23 Dec 2026.
    assert ENG.reason(date(2026, 12, 28)) is not None and ENG.reason(date(2027, 1, 1)) is not None
    due = datetime.combine(date(2027, 1, 11), END_OF_DAY, tzinfo=LONDON)
    end, _ = latest_meeting_end(due, ENG, parse_period("10 working days"))
    assert end.date() == date(2026, 12, 23)
    end_days, _ = latest_meeting_end(due, ENG, parse_period("5 days"))
    assert end_days.date() == date(2027, 1, 6)
    end_none, why = latest_meeting_end(due, ENG, None)
    assert end_none == due and "statutory date" in why


def test_shortfall_says_who_is_busy_on_which_days_and_the_first_slot_after() -> None:
    mon = date(2027, 1, 4)
    tue = date(2027, 1, 5)
    busy = {
        "chair@example.org": [b(mon, 9, 0, 17, 0), b(tue, 9, 0, 12, 0)],
        "police@example.org": [b(tue, 12, 0, 17, 0, "oof")],
        "room@example.org": [b(mon, 13, 0, 14, 0)],
    }
    res = find_slots(
        busy,
        duration=HOUR,
        earliest=at(mon, 8),
        latest_end=at(tue, 23),
        search_until=at(date(2027, 1, 8), 23),
        calendar=ENG,
        hours=NINE_TO_FIVE,
    )
    assert res.slots == ()
    sf = res.shortfall
    assert sf is not None
    assert [(d.day, d.unavailable) for d in sf.days] == [
        (mon, ("chair@example.org",)),
        (tue, ()),
    ]
    assert sf.days[1].busy == ("chair@example.org", "police@example.org")
    assert sf.first_after is not None and sf.first_after.start == at(date(2027, 1, 6), 9)
    without = dict(sf.without)
    assert without["chair@example.org"] is not None and without["chair@example.org"].start == at(mon, 9)
    assert without["police@example.org"] is not None and without["police@example.org"].start == at(tue, 12)
    assert without["room@example.org"] is None
    text = sf.text()
    assert "Mon 4 Jan 2027: chair@example.org" in text
    assert "Tue 5 Jan 2027: no common free time" in text
    assert "First slot after the deadline: Wed 6 Jan 2027 09:00-10:00 GMT" in text
    assert "without chair@example.org: Mon 4 Jan 2027 09:00-10:00 GMT" in text


def test_shortfall_when_the_deadline_has_passed_or_no_working_day_is_left() -> None:
    fri = date(2027, 1, 8)
    passed = find_slots(
        {"a": []}, duration=HOUR, earliest=at(fri, 12), latest_end=at(fri, 8), calendar=ENG, hours=NINE_TO_FIVE
    )
    assert passed.shortfall is not None and "has passed" in passed.shortfall.reason
    weekend = find_slots(
        {"a": []},
        duration=HOUR,
        earliest=at(date(2027, 1, 9), 8),
        latest_end=at(date(2027, 1, 10), 23),
        calendar=ENG,
        hours=NINE_TO_FIVE,
    )
    assert weekend.shortfall is not None and "no working time" in weekend.shortfall.reason
    too_long = find_slots(
        {"a": []},
        duration=timedelta(hours=9),
        earliest=at(fri, 8),
        latest_end=at(fri, 23),
        calendar=ENG,
        hours=NINE_TO_FIVE,
    )
    assert too_long.shortfall is not None and "No 9 h fits" in too_long.shortfall.reason


def test_unknown_availability_is_noted_not_treated_as_busy() -> None:
    mon = date(2027, 1, 4)
    res = find_slots(
        {"a": []},
        duration=HOUR,
        earliest=at(mon, 8),
        latest_end=at(mon, 23),
        calendar=ENG,
        hours=NINE_TO_FIVE,
        unknown=["x@example.org"],
    )
    assert res.slots and "x@example.org" in res.notes[0]


def test_working_hours_parse_and_refuse() -> None:
    assert WorkingHours.parse("09:30-16:00") == WorkingHours(time(9, 30), time(16))
    assert WorkingHours.parse(" 08:00 - 18:00 ").describe() == "08:00-18:00"
    for bad in ("9-5", "17:00-09:00", "nine to five", "09:00"):
        with pytest.raises(InvalidInput):
            WorkingHours.parse(bad)


def test_bad_parameters_are_refused() -> None:
    mon = date(2027, 1, 4)
    kw = dict(earliest=at(mon, 8), latest_end=at(mon, 23), calendar=ENG, hours=NINE_TO_FIVE)
    with pytest.raises(InvalidInput):
        find_slots({}, duration=timedelta(0), **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        find_slots({}, duration=HOUR, step=timedelta(seconds=90), **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        find_slots(
            {},
            duration=HOUR,
            earliest=datetime(2027, 1, 4, 8),
            latest_end=at(mon, 23),
            calendar=ENG,
            hours=NINE_TO_FIVE,
        )


# -- generated calendars against the brute-force reference ---------------------------------------

# Windows that start near both clock changes, Easter, the May bank holidays and Christmas, plus one
# closure day of the area's own (Wed 23 Dec 2026).
BASES = [
    date(2026, 3, 23),  # clocks forward Sun 29 Mar 2026
    date(2026, 10, 19),  # clocks back Sun 25 Oct 2026
    date(2026, 12, 21),  # Christmas, Boxing Day substitute, New Year
    date(2027, 3, 22),  # Good Friday 26 Mar, clocks forward and Easter Day 28 Mar, Easter Monday 29 Mar
    date(2027, 4, 28),  # early May bank holiday Mon 3 May 2027
    date(2027, 10, 25),  # clocks back Sun 31 Oct 2027
]
CLOSURE = date(2026, 12, 23)
CAL = calendar_for("ENG", frozenset({CLOSURE}))
STATUS_CHOICES = [*STATUSES, "Tentative", "workingElsewhere", "Busy", "OOF"]


@st.composite
def calendars(draw: st.DrawFn) -> dict[str, object]:
    base = draw(st.sampled_from(BASES)) + timedelta(days=draw(st.integers(0, 6)))
    start = datetime.combine(base, time(0), tzinfo=LONDON) + timedelta(minutes=5 * draw(st.integers(0, 288)))
    length = timedelta(minutes=30 * draw(st.integers(1, 48 * 5)))
    h0 = draw(st.integers(7 * 4, 10 * 4)) * 15
    h1 = draw(st.integers(15 * 4, 19 * 4)) * 15
    hours = WorkingHours(time(h0 // 60, h0 % 60), time(h1 // 60, h1 % 60))
    people = draw(st.integers(1, 4))
    busy: dict[str, list[Busy]] = {}
    for i in range(people):
        items = []
        for _ in range(draw(st.integers(0, 10))):
            s = start + timedelta(minutes=draw(st.integers(-24 * 60, int(length.total_seconds() // 60) + 24 * 60)))
            d = timedelta(minutes=draw(st.integers(1, 8 * 60)))
            items.append(Busy(s, s + d, draw(st.sampled_from(STATUS_CHOICES))))
        busy[f"p{i}"] = items
    # Some long blocks so that generated shortfalls are common too.
    if draw(st.booleans()):
        s = start + timedelta(hours=draw(st.integers(0, 48)))
        busy["p0"].append(Busy(s, s + timedelta(hours=draw(st.integers(8, 72))), "oof"))
    return {
        "busy": busy,
        "duration": timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 90, 120, 180]))),
        "earliest": start,
        "latest_end": start + length,
        "hours": hours,
        "step": timedelta(minutes=draw(st.sampled_from([5, 15, 30, 60]))),
        "count": draw(st.integers(1, 4)),
        "one_per_day": draw(st.booleans()),
        "tentative_blocks": draw(st.booleans()),
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars())
def test_slots_match_the_minute_by_minute_reference(case: dict[str, object]) -> None:
    got = find_slots(case["busy"], calendar=CAL, **{k: v for k, v in case.items() if k != "busy"})  # type: ignore[arg-type]
    want = reference_slots(case["busy"], calendar=CAL, **{k: v for k, v in case.items() if k != "busy"})  # type: ignore[arg-type]
    assert [(s.start, s.end) for s in got.slots] == want
    for s in got.slots:
        assert s.start.tzinfo is not None and CAL.is_working_day(s.start.astimezone(LONDON).date())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), st.integers(1, 5))
def test_shortfalls_match_the_reference(case: dict[str, object], extra_days: int) -> None:
    busy = case["busy"]
    kw = {k: v for k, v in case.items() if k not in ("busy", "count", "one_per_day")}
    until = case["latest_end"] + timedelta(days=extra_days)  # type: ignore[operator]
    got = find_slots(busy, calendar=CAL, count=1, search_until=until, **kw)  # type: ignore[arg-type]
    if got.slots:
        return
    sf = got.shortfall
    assert sf is not None
    first = reference_first_after(busy, calendar=CAL, search_until=until, **kw)  # type: ignore[arg-type]
    assert (None if sf.first_after is None else (sf.first_after.start, sf.first_after.end)) == first
    reports = reference_day_reports(busy, calendar=CAL, **kw)  # type: ignore[arg-type]
    assert [(d.day, d.busy, d.unavailable) for d in sf.days] == reports
    for who, slot in sf.without:
        rest = {k: v for k, v in busy.items() if k != who}  # type: ignore[attr-defined]
        alt = reference_slots(rest, calendar=CAL, count=1, one_per_day=True, **kw)  # type: ignore[arg-type]
        assert (None if slot is None else [(slot.start, slot.end)]) == (alt or None)
