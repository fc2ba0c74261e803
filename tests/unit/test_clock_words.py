"""casework.clock.spoken: moments as cards and messages show them, in UK time."""

from __future__ import annotations

from datetime import UTC, datetime

from casework.clock import spoken


def test_winter_time_is_utc() -> None:
    assert spoken(datetime(2026, 12, 1, 8, 4, 17, tzinfo=UTC)) == "Tue 1 Dec 2026, 08:04"


def test_summer_time_is_an_hour_ahead() -> None:
    # 13:00 UTC on Fri 23 Oct 2026 is 14:00 BST (the clocks go back on Sun 25 Oct).
    assert spoken(datetime(2026, 10, 23, 13, 0, tzinfo=UTC)) == "Fri 23 Oct 2026, 14:00"


def test_a_deadline_at_the_end_of_a_day_says_so() -> None:
    # 22:59:59 UTC in summer is 23:59:59 BST.
    assert spoken(datetime(2027, 6, 1, 22, 59, 59, tzinfo=UTC)) == "end of Tue 1 Jun 2027"
    assert spoken(datetime(2027, 1, 5, 23, 59, 59, tzinfo=UTC)) == "end of Tue 5 Jan 2027"
