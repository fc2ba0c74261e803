"""Wall-clock times at the clock changes are never read silently (casework.clock.local_moment).

The UK clocks change at 01:00 UTC on the last Sunday of March and of October. Worked out by hand:
1 Jan 2027 is a Friday, so 1 Mar 2027 is a Monday (31 + 28 = 59 days = 8 weeks and 3 days) and 28 Mar
2027 a Sunday (27 days on = 3 weeks and 6 days); the next Sunday is 4 Apr, so 28 Mar is March's last.
1 Oct 2027 is a Friday (from Mon 1 Mar: 31 + 30 + 31 + 30 + 31 + 31 + 30 = 214 days = 30 weeks and
4 days), so 31 Oct 2027 is a Sunday (30 days on = 4 weeks and 2 days), and 7 Nov the next: October's last.

- Sun 28 Mar 2027: 01:00 GMT becomes 02:00 BST; 01:00-01:59 never happens.
- Sun 31 Oct 2027: 02:00 BST becomes 01:00 GMT; 01:00-01:59 happens twice: 01:30 BST is 00:30 UTC, and
  01:30 GMT is 01:30 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casework.clock import local_moment, parse_given, parse_time
from casework.errors import AmbiguousTime, MalformedTime, NonexistentTime


def test_the_autumn_repeated_hour_is_refused_naming_both_readings_and_the_offset_form() -> None:
    with pytest.raises(AmbiguousTime) as err:
        parse_time("2027-10-31T01:30", "time for event conference_held")
    assert str(err.value) == (
        "time for event conference_held '2027-10-31T01:30' is ambiguous: 01:30 on Sun 31 Oct 2027 happens "
        "twice in UK time, as the clocks go back from 02:00 BST to 01:00 GMT: it is 01:30 BST = 00:30 UTC, "
        "or 01:30 GMT = 01:30 UTC; give the offset: 2027-10-31T01:30+01:00 for BST or "
        "2027-10-31T01:30+00:00 for GMT"
    )
    assert isinstance(err.value, MalformedTime)  # callers that catch malformed times catch it too


@pytest.mark.parametrize("text", ["2027-10-31T01:00", "2027-10-31T01:59", "2027-10-31 01:30:15"])
def test_every_time_in_the_repeated_hour_is_refused(text: str) -> None:
    with pytest.raises(AmbiguousTime):
        parse_time(text)


def test_the_spring_missing_hour_is_refused_saying_what_an_offset_would_mean() -> None:
    with pytest.raises(NonexistentTime) as err:
        parse_time("2027-03-28T01:30", "time for event conference_held")
    # 01:30 +00:00 is 01:30 UTC, which is 02:30 BST (the clocks went forward at 01:00 UTC).
    assert str(err.value) == (
        "time for event conference_held '2027-03-28T01:30' does not exist: 01:30 on Sun 28 Mar 2027 is "
        "skipped in UK time, as the clocks go forward from 01:00 GMT to 02:00 BST; give the time the clock "
        "showed, or an offset (2027-03-28T01:30+00:00 is 02:30 BST)"
    )


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2027-10-31T01:30+01:00", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),  # the first 01:30 (BST)
        ("2027-10-31T01:30+00:00", datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),  # the second 01:30 (GMT)
        ("2027-10-31T01:30Z", datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
        ("2027-10-31T00:59", datetime(2027, 10, 30, 23, 59, tzinfo=UTC)),  # still BST, before the repeat
        ("2027-10-31T02:00", datetime(2027, 10, 31, 2, 0, tzinfo=UTC)),  # GMT, after it
        ("2027-03-28T00:59", datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),  # GMT, before the gap
        ("2027-03-28T02:00", datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),  # BST, after it
        ("2027-03-28T01:30+00:00", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    ],
)
def test_an_explicit_offset_or_a_time_outside_the_change_is_accepted(text: str, utc: datetime) -> None:
    assert parse_time(text) == utc


def test_a_bare_date_is_reported_as_having_no_time() -> None:
    # The clock-change days themselves start unambiguously at 00:00 (the changes are at 01:00 UTC).
    assert parse_given("2027-10-31") == (datetime(2027, 10, 30, 23, 0, tzinfo=UTC), False)  # 00:00 BST
    assert parse_given("2026-12-01") == (datetime(2026, 12, 1, 0, 0, tzinfo=UTC), False)
    assert parse_given("2026-12-01T14:00") == (datetime(2026, 12, 1, 14, 0, tzinfo=UTC), True)


def test_without_offsets_the_hint_fits_a_teams_time_box() -> None:
    with pytest.raises(AmbiguousTime) as ambiguous:
        local_moment(datetime(2027, 10, 31, 1, 30), "2027-10-31 01:30", "the time", offsets=False)
    assert str(ambiguous.value) == (
        "the time 01:30 on Sun 31 Oct 2027 happens twice (the clocks go back from 02:00 BST to 01:00 GMT): "
        "leave the time empty to record the date alone, or give a time outside 01:00-01:59"
    )
    with pytest.raises(NonexistentTime) as missing:
        local_moment(datetime(2027, 3, 28, 1, 30), "2027-03-28 01:30", "the time", offsets=False)
    assert str(missing.value) == (
        "the time 01:30 on Sun 28 Mar 2027 does not exist (the clocks go forward from 01:00 GMT to 02:00 BST): "
        "give the time the clock showed, from 02:00, or leave the time empty"
    )
